import Foundation
import LanguageModels
import Sandboxes
import Testing
@testable import RLMEngine

/// The loop under a small root window: what is compacted, how, and what the root model is sent afterwards.
@Suite struct CompactionLoopTests {
    let models = RunModels(root: "openai/root", sub: "openai/sub")
    static let inventory = #"{"variables": [{"name": "total", "type": "int", "length": null, "repr": "4242"}], "more": 0}"#

    func print(_ tag: String) -> String { "```python\nprint('\(tag)' * 1000)\n```" }

    /// Every request's estimated size, as the engine counts it (four characters per token).
    func tokens(_ request: ChatRequest) -> Int { TokenEstimator().tokens(request.messages) }

    @Test func whenTheCallBudgetCannotSpareASummaryTheHistoryIsCompactedMechanically() async throws {
        let root = ScriptedModel([print("aaaa"), print("bbbb"), print("cccc"), "```python\nSUBMIT(answer=total)\n```"])
        let sub = ScriptedModel([])
        let big = String(repeating: "x", count: 4_000)
        let sandbox = StubSandbox([.output(big), .output(big), .output(big), .output(Self.inventory + "\n"), .output("", submitted: #"{"answer": 4242}"#)])
        let engine = RLMEngine(rootModel: root, subModel: sub, windows: ModelWindows(rootOverride: 4_096))
        let result = try await engine.run(RunRequest(task: "t", models: models, limits: .init(maxLLMCalls: 4)), sandbox: { sandbox })

        #expect(result.status == .submitted && result.answer == .int(4242) && result.llmCalls == 4)
        let compaction = try #require(result.trajectory[3].compaction)
        #expect(compaction.method == .mechanical && compaction.note == "no LLM call left for a summary (max_llm_calls=4; the root model's next call comes first)")
        #expect(compaction.iteration == 4 && compaction.tokensAfter < compaction.tokensBefore && compaction.limitTokens == 3_481)
        #expect(await sub.requests.isEmpty)
        // The REPL was asked for its variables in the run's own namespace.
        let executed = await sandbox.executed
        #expect(executed[3].code.contains("__rlm_inventory") && executed[3].namespace == executed[0].namespace)
        let requests = await root.requests
        #expect(requests.allSatisfy { tokens($0) <= 3_481 })
        let summary = requests[3].messages[1].content
        #expect(summary.hasPrefix("Task: t") && summary.contains("- `total`: int = 4242"))
        #expect(summary.contains("- Iteration 1: ran `print('aaaa' * 1000)` → printed 4000 chars"))
    }

    @Test func aFailedSummaryCallFallsBackToTheMechanicalSummaryAndSaysWhy() async throws {
        let root = ScriptedModel([print("aaaa"), print("bbbb"), print("cccc"), "```python\nSUBMIT(answer=total)\n```"])
        let big = String(repeating: "x", count: 4_000)
        let sandbox = StubSandbox([.output(big), .output(big), .output(big), .output(Self.inventory + "\n"), .output("", submitted: #"{"answer": 4242}"#)])
        let engine = RLMEngine(rootModel: root, subModel: RefusingModel(), windows: ModelWindows(rootOverride: 4_096))
        let result = try await engine.run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { sandbox })
        #expect(result.status == .submitted && result.llmCalls == 5)  // the failed summary call counts against the budget
        let compaction = try #require(result.trajectory[3].compaction)
        #expect(compaction.method == .mechanical && compaction.note?.hasPrefix("the sub model's summary call failed: ") == true)
        #expect(await root.requests[3].messages[1].content.contains("- Iteration 2: ran `print('bbbb' * 1000)`"))
    }

    @Test func aStepTooBigForTheWindowIsCutWithAMarker() async throws {
        let root = ScriptedModel([print("huge"), "```python\nSUBMIT(answer=1)\n```"])
        let sandbox = StubSandbox([.output("HEAD" + String(repeating: "y", count: 40_000) + "TAIL"), .output("", submitted: #"{"answer": 1}"#)])
        let engine = RLMEngine(rootModel: root, subModel: ScriptedModel([]), windows: ModelWindows(rootOverride: 4_096))
        let result = try await engine.run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { sandbox })

        #expect(result.status == .submitted)
        let compaction = try #require(result.trajectory[1].compaction)
        #expect(compaction.method == .cutOnly && compaction.cutCharacters > 30_000 && compaction.summarizedIterations.isEmpty)
        let second = await root.requests[1]
        #expect(tokens(second) <= 3_481 && second.maxTokens <= 4_096 - tokens(second))
        let observation = second.messages.last!.content
        #expect(observation.contains("HEAD") && observation.contains("TAIL") && observation.contains("characters cut here to fit"))
        // The trajectory keeps the whole output.
        #expect(result.trajectory[0].blocks[0].stdout.count == 40_008)
    }

    @Test func aWindowTooSmallForTheTaskEndsTheRunSayingWhatToRaise() async throws {
        let root = ScriptedModel([])
        let engine = RLMEngine(rootModel: root, subModel: root, windows: ModelWindows(rootOverride: 2_048, compactionThreshold: 0.1))
        let result = try await engine.run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { StubSandbox([]) })
        #expect(result.status == .error && result.llmCalls == 0)
        #expect(result.message?.contains("raise RLM_ROOT_CONTEXT_TOKENS") == true && result.message?.contains("204") == true)
        #expect(await root.requests.isEmpty)
    }

    @Test func aLargeWindowSendsTheWholeHistory() async throws {
        let root = ScriptedModel([print("aaaa"), print("bbbb"), print("cccc"), "```python\nSUBMIT(answer=1)\n```"])
        let big = String(repeating: "x", count: 4_000)
        let sandbox = StubSandbox([.output(big), .output(big), .output(big), .output("", submitted: #"{"answer": 1}"#)])
        let result = try await RLMEngine(rootModel: root, subModel: root).run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { sandbox })
        #expect(result.status == .submitted && result.trajectory.allSatisfy { $0.compaction == nil })
        let executed = await sandbox.executed
        #expect(await root.requests[3].messages.count == 8 && executed.count == 4)
    }

    @Test func plainTextFinalVarRunsTheWorkersFinalVarForThatName() async throws {
        let root = ScriptedModel(["The answer is in `total`.\nFINAL_VAR(total)"])
        let sandbox = StubSandbox([.output("", submitted: #"{"answer": 4242}"#)])
        let result = try await RLMEngine(rootModel: root, subModel: root).run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { sandbox })
        #expect(result.status == .submitted && result.answer == .int(4242) && result.iterations == 1)
        #expect(await sandbox.executed.map(\.code) == [#"FINAL_VAR("total")"#])
    }

    @Test func plainTextFinalVarWithoutAVariableNameRunsNothingAndSaysWhy() async throws {
        let root = ScriptedModel(["FINAL_VAR(total + 1)", "FINAL(2)"])
        let sandbox = StubSandbox([])
        let result = try await RLMEngine(rootModel: root, subModel: root).run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { sandbox })
        let executed = await sandbox.executed
        #expect(result.answer == .string("2") && result.iterations == 2 && executed.isEmpty)
        #expect(await root.requests[1].messages.last!.content.contains("`total + 1` is not one"))
    }
}

/// A model that rejects every request, as a provider does for a bad request.
struct RefusingModel: LanguageModel {
    func complete(_ request: ChatRequest) async throws(LLMError) -> ChatResponse {
        throw .requestRejected(baseURL: "http://127.0.0.1:9", status: 400, message: "context too long")
    }
}
