import LanguageModels
import Testing
@testable import RLMEngine

/// The compaction arithmetic and its small parts, without a model or a sandbox.
@Suite struct CompactionPlannerTests {
    @Test func aRequestUnderTheLimitIsLeftAlone() {
        #expect(CompactionPlanner.plan(limit: 10_000, fixed: 1_000, summary: 0, exchanges: [3_000, 3_000, 3_000], summaryAllowance: 1_666) == .fits)
    }

    @Test func theOldestExchangesAreFoldedAndTheLatestIsKept() {
        let decision = CompactionPlanner.plan(limit: 10_000, fixed: 1_000, summary: 0, exchanges: [3_000, 3_000, 3_000, 3_000], summaryAllowance: 1_666)
        #expect(decision == .compact(fold: 3, cutLatestTo: nil))
    }

    @Test func smallExchangesAreFoldedOnlyDownToTheTarget() {
        // 60 % of 10,000 is the goal: fixed 1,000 + summary 1,000 + the four latest exchanges of 1,000 fit it.
        let decision = CompactionPlanner.plan(limit: 10_000, fixed: 1_000, summary: 0, exchanges: Array(repeating: 1_000, count: 10), summaryAllowance: 1_000)
        #expect(decision == .compact(fold: 6, cutLatestTo: nil))
    }

    @Test func aLatestExchangeTooBigForTheWindowIsCutToTheRoomLeft() {
        #expect(CompactionPlanner.plan(limit: 10_000, fixed: 1_000, summary: 0, exchanges: [20_000], summaryAllowance: 1_666)
            == .compact(fold: 0, cutLatestTo: 9_000))
        // With older exchanges folded, the latest gets what the fixed messages and the new summary leave.
        #expect(CompactionPlanner.plan(limit: 10_000, fixed: 1_000, summary: 0, exchanges: [2_000, 20_000], summaryAllowance: 1_000)
            == .compact(fold: 1, cutLatestTo: 8_000))
    }

    @Test func anExistingSummaryIsCountedAndKeptWhenNothingIsFolded() {
        #expect(CompactionPlanner.plan(limit: 10_000, fixed: 1_000, summary: 1_500, exchanges: [9_000], summaryAllowance: 1_000)
            == .compact(fold: 0, cutLatestTo: 7_500))
    }

    @Test func fixedMessagesThatLeaveNoRoomAreReported() {
        #expect(CompactionPlanner.plan(limit: 10_000, fixed: 9_900, summary: 0, exchanges: [500], summaryAllowance: 256) == .tooSmall(fixedTokens: 9_900))
        #expect(CompactionPlanner.plan(limit: 1_000, fixed: 1_200, summary: 0, exchanges: [], summaryAllowance: 256) == .tooSmall(fixedTokens: 1_200))
    }

    @Test func theSummaryAllowanceIsASixthOfTheLimitWithinBounds() {
        #expect(CompactionPlanner.summaryAllowance(limit: 10_200) == 1_700)
        #expect(CompactionPlanner.summaryAllowance(limit: 1_000) == 256)
        #expect(CompactionPlanner.summaryAllowance(limit: 1_000_000) == 2_000)
    }

    @Test func cutTextKeepsItsStartAndEndWithinTheLimitAndSaysHowMuchWent() {
        let text = "START" + String(repeating: "x", count: 10_000) + "END"
        let cut = TextCut.cut(text, toChars: 1_000)
        #expect(cut.count <= 1_000 && cut.hasPrefix("START") && cut.hasSuffix("END"))
        #expect(cut.contains("characters cut here to fit the root model's context window"))
        #expect(TextCut.cut("short", toChars: 1_000) == "short")
    }

    @Test func theEstimateScalesUpWithTheProvidersCountButNeverDown() {
        var estimator = TokenEstimator()
        let messages = [ChatMessage(.user, String(repeating: "a", count: 4_000))]
        #expect(estimator.tokens(messages) == 1_004)
        estimator.calibrate(sent: messages, reportedInputTokens: 500)
        #expect(estimator.tokens(messages) == 1_004)
        estimator.calibrate(sent: messages, reportedInputTokens: 2_008)
        #expect(estimator.tokens(messages) == 2_004)
        estimator.calibrate(sent: messages, reportedInputTokens: 0)
        #expect(estimator.scale == 2)
    }

    @Test func theRootWindowComesFromTheOverrideElseTheModelFamily() {
        let windows = ModelWindows(override: 5_000, rootOverride: 12_000)
        #expect(windows.rootContextTokens(of: "openai/gpt-4o") == 12_000 && windows.contextTokens(of: "openai/gpt-4o") == 5_000)
        #expect(ModelWindows().rootContextTokens(of: "anthropic/claude-sonnet-4-5") == 200_000)
        #expect(ModelWindows().rootContextTokens(of: "llama3.2") == 128_000)
    }

    @Test func theReplInventoryIsReadFromTheSnippetsJSONLine() {
        let inventory = ReplInventory.parse(stdout: #"{"variables": [{"name": "hits", "type": "list", "length": 13, "repr": "['a', 'b']"}], "more": 2}"# + "\n")
        #expect(inventory == .listed([.init(name: "hits", type: "list", length: 13, repr: "['a', 'b']")], more: 2))
        #expect(inventory.rendered(limit: 1_000) == "- `hits`: list, len 13 = ['a', 'b']\n- … and 2 more")
        guard case .unavailable = ReplInventory.parse(stdout: "Traceback") else { Issue.record("garbage parsed as a listing"); return }
    }

    @Test func plainTextFinalVarNamesAVariableOrSaysWhatIsWrong() {
        #expect(CodeBlocks.plainTextFinalVar(in: "Done.\nFINAL_VAR(result)") == .name("result"))
        #expect(CodeBlocks.plainTextFinalVar(in: "FINAL_VAR(\"answer_2\")\n") == .name("answer_2"))
        #expect(CodeBlocks.plainTextFinalVar(in: "FINAL_VAR(x); import os") == nil)
        #expect(CodeBlocks.plainTextFinalVar(in: "FINAL_VAR(os.system('id'))") == .invalid("os.system('id')"))
        #expect(CodeBlocks.plainTextFinalVar(in: "I will call the FINAL_VAR(x) helper later.") == nil)
        #expect(CodeBlocks.plainTextFinalVar(in: "FINAL(4)") == nil)
    }
}
