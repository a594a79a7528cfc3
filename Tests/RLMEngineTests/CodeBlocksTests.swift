import RLMCommon
import Foundation
import Testing
@testable import RLMEngine

@Suite struct CodeBlocksTests {
    @Test func runnableFencesRunInOrderAndOtherLanguagesAreSkipped() {
        let reply = """
            Plan first.
            ```bash
            ls -la
            ```
            ```python
            a = 1
            ```
            Then:
            ```repl
            print(a)
            ```
            ```
            b = 2
            ```
            ```json
            {"not": "code"}
            ```
            """
        #expect(CodeBlocks.extract(from: reply) == ["a = 1", "print(a)", "b = 2"])
    }

    @Test func longerFencesMayContainShorterOnes() {
        let reply = "````python\ns = '''\n```\n'''\nprint(s)\n````"
        #expect(CodeBlocks.extract(from: reply) == ["s = '''\n```\n'''\nprint(s)"])
    }

    @Test func emptyAndUnclosedBlocksDoNotRun() {
        #expect(CodeBlocks.extract(from: "```python\n\n```") == [])
        #expect(CodeBlocks.extract(from: "```python\nprint(1)") == [])
    }

    @Test func plainTextFinalOnlyAtTheStartOfALine() {
        #expect(CodeBlocks.plainTextFinal(in: "Done.\nFINAL(\"42 apples\")") == "42 apples")
        #expect(CodeBlocks.plainTextFinal(in: "FINAL(7)") == "7")
        #expect(CodeBlocks.plainTextFinal(in: "I will call FINAL(x) later") == nil)
        #expect(CodeBlocks.plainTextFinal(in: "no answer yet") == nil)
    }

    @Test func planParsingTakesTheFirstArrayOfStrings() {
        #expect(RLMEngine.parsePlan("Here:\n[\"a\", \"b\", \"c\"]\nthanks", limit: 2) == ["a", "b"])
        #expect(RLMEngine.parsePlan("```json\n[\"only\"]\n```", limit: 5) == ["only"])
        #expect(RLMEngine.parsePlan("no plan", limit: 5) == nil)
        #expect(RLMEngine.parsePlan("[1, 2]", limit: 5) == nil)
    }

    @Test func jsonValuesKeepTheirTypesAndReadNaturally() throws {
        let value = try #require(JSONValue.parse(Data(#"{"n": 3, "x": 2.5, "s": "hi", "l": [true, null]}"#.utf8)))
        #expect(value["n"] == .int(3) && value["x"] == .double(2.5) && value["l"] == .array([.bool(true), .null]))
        #expect(JSONValue.string("plain").displayText == "plain")
        #expect(JSONValue.array([.int(1), .string("a")]).displayText == #"[1,"a"]"#)
    }

    @Test func modelWindowsKnowCommonFamiliesAndHonourTheOverride() {
        let windows = ModelWindows()
        #expect(windows.contextTokens(of: "openai/gpt-4o-mini") == 128_000)
        #expect(windows.contextTokens(of: "anthropic/claude-haiku-4-5") == 200_000)
        #expect(windows.contextTokens(of: "some-local-model") == 128_000)
        #expect(ModelWindows(override: 8000).promptBudget(of: "gpt-4.1") == 8000 - 4096)
    }
}
