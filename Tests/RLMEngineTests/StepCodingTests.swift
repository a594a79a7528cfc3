import Foundation
import RLMCommon
import Testing
@testable import RLMEngine

/// The run history stores a step as the engine encodes it and reads it back as the same `Step`.
@Suite struct StepCodingTests {
    @Test func aStepReadsBackAsItWasWritten() throws {
        let call = SubCallRecord(kind: "rlm_query", model: "openai/gpt-4o-mini", promptChars: 12, inputTokens: 3, outputTokens: 4,
                                 latencyMS: 5, childRunID: "run_child", childStatus: .submitted, childIterations: 2,
                                 promptPreview: "sum the rows", answerPreview: "42")
        let block = CodeRun(code: "print(1)", stdout: "1\n", stderr: "", error: nil, submitted: false, truncated: false, durationMS: 7, subCalls: [call])
        let compaction = Compaction(iteration: 3, tokensBefore: 9_000, tokensAfter: 2_000, windowTokens: 10_000, limitTokens: 8_500,
                                    method: .mechanical, summarizedIterations: [1, 2], cutCharacters: 0, note: "budget")
        var step = Step(iteration: 3, reply: "```repl\nprint(1)\n```", model: "openai/gpt-4o", inputTokens: 100, outputTokens: 20,
                        latencyMS: 300, blocks: [block], feedback: nil, durationMS: 400, compaction: compaction)
        step.finishReason = "stop"
        step.attempts = 2
        #expect(try JSONDecoder().decode(Step.self, from: JSONEncoder().encode(step)) == step)
    }

    @Test func aStepRecordedBeforeAttemptsWereKeptCountsOneAttempt() throws {
        let old = #"{"iteration": 1, "reply": "hi", "model": "m", "input_tokens": 1, "output_tokens": 2, "latency_ms": 3, "blocks": [], "duration_ms": 4}"#
        let step = try JSONDecoder().decode(Step.self, from: Data(old.utf8))
        #expect(step.attempts == 1 && step.finishReason == nil && step.compaction == nil && step.feedback == nil)
    }
}
