import RLMCommon
import Foundation

/// How a run ended.
public enum RunStatus: String, Sendable, Codable {
    /// The code called `SUBMIT` (or `FINAL`) and the submission was accepted.
    case submitted
    /// Out of iterations: the answer is the root model's best final answer from what it had seen.
    case fallback
    /// A budget (LLM calls, tokens, wall clock) ran out before an answer was submitted.
    case budgetExceeded = "budget_exceeded"
    /// A model or the sandbox failed in a way the run could not recover from; `message` says what to fix.
    case error
}

/// Everything a run produced: the answer, how it ended, what it cost and, step by step, how it got there.
public struct RunResult: Sendable, Encodable {
    public var runID: String
    public var status: RunStatus
    /// The submitted `answer` field (or the only field, or all fields), or the fallback text; nil when none.
    public var answer: JSONValue?
    /// Every field given to `SUBMIT`, when the run submitted.
    public var submitted: [String: JSONValue]?
    /// Why the run ended without a submitted answer (the budget, the error), worded for the user.
    public var message: String?
    public var iterations: Int
    public var llmCalls: Int
    public var usage: Usage
    public var durationMS: Double
    public var trajectory: [Step]

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", status, answer, submitted, message, iterations, llmCalls = "llm_calls", usage
        case durationMS = "duration_ms", trajectory
    }
}

/// Tokens and calls per model, and their totals.
public struct Usage: Sendable, Encodable, Equatable {
    public struct ModelUsage: Sendable, Codable, Equatable {
        public var calls: Int
        public var inputTokens: Int
        public var outputTokens: Int

        public init(calls: Int, inputTokens: Int, outputTokens: Int) {
            self.calls = calls
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
        }

        enum CodingKeys: String, CodingKey {
            case calls, inputTokens = "input_tokens", outputTokens = "output_tokens"
        }
    }

    public var models: [String: ModelUsage] = [:]
    /// USD, when every model's price is known (`PriceTable`); nil otherwise.
    public var costUSD: Double?

    public var totalTokens: Int { models.values.reduce(0) { $0 + $1.inputTokens + $1.outputTokens } }
    public var calls: Int { models.values.reduce(0) { $0 + $1.calls } }

    mutating func add(model: String, input: Int, output: Int) {
        models[model, default: ModelUsage(calls: 0, inputTokens: 0, outputTokens: 0)].calls += 1
        models[model]!.inputTokens += input
        models[model]!.outputTokens += output
    }

    public init(models: [String: ModelUsage] = [:], costUSD: Double? = nil) {
        self.models = models
        self.costUSD = costUSD
    }

    enum CodingKeys: String, CodingKey { case models, totalTokens = "total_tokens", costUSD = "cost_usd" }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(models, forKey: .models)
        try container.encode(totalTokens, forKey: .totalTokens)
        try container.encode(costUSD, forKey: .costUSD)
    }
}

extension Usage: Decodable {
    /// Reads usage as `encode(to:)` wrote it (the run history keeps it so); `total_tokens` is derived, so it is not read.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        self.init(models: try fields.decode([String: ModelUsage].self, forKey: .models),
                  costUSD: try fields.decodeIfPresent(Double.self, forKey: .costUSD))
    }
}

/// One iteration: the root model's reply, the code it ran and what came back; the run history reads it back as it was written.
public struct Step: Sendable, Encodable, Equatable {
    public var iteration: Int
    public var reply: String
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int
    public var latencyMS: Double
    public var blocks: [CodeRun]
    /// What the engine told the model after the code ran (a rejected submission, a missing code block).
    public var feedback: String?
    public var durationMS: Double
    /// Set when the root conversation was compacted before this step's request.
    public var compaction: Compaction? = nil
    /// Why the root model stopped writing (`stop`, `length` when the reply was cut at its token limit), as the
    /// provider said it; nil when it did not say.
    public var finishReason: String? = nil
    /// HTTP attempts the root call took (more than 1 when a failure was retried).
    public var attempts: Int = 1

    public init(iteration: Int, reply: String, model: String, inputTokens: Int, outputTokens: Int, latencyMS: Double, blocks: [CodeRun],
                feedback: String?, durationMS: Double, compaction: Compaction? = nil) {
        self.iteration = iteration
        self.reply = reply
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.latencyMS = latencyMS
        self.blocks = blocks
        self.feedback = feedback
        self.durationMS = durationMS
        self.compaction = compaction
    }

    enum CodingKeys: String, CodingKey {
        case iteration, reply, model, inputTokens = "input_tokens", outputTokens = "output_tokens", latencyMS = "latency_ms"
        case blocks, feedback, durationMS = "duration_ms", compaction, finishReason = "finish_reason", attempts
    }
}

/// One code block's execution and the sub-calls it made.
public struct CodeRun: Sendable, Codable, Equatable {
    public var code: String
    public var stdout: String
    public var stderr: String
    public var error: String?
    public var submitted: Bool
    public var truncated: Bool
    public var durationMS: Double
    public var subCalls: [SubCallRecord]

    enum CodingKeys: String, CodingKey {
        case code, stdout, stderr, error, submitted, truncated, durationMS = "duration_ms", subCalls = "sub_calls"
    }
}

/// One `llm_query` (one prompt of a batch counts as one) or `rlm_query` made by the code.
public struct SubCallRecord: Sendable, Codable, Equatable {
    public var kind: String
    public var model: String
    public var promptChars: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var latencyMS: Double
    public var error: String?
    /// For `rlm_query` runs: the child run's id, status and iterations.
    public var childRunID: String?
    public var childStatus: RunStatus?
    public var childIterations: Int?
    /// The first characters of the prompt and of the answer, for the run history.
    public var promptPreview: String?
    public var answerPreview: String?

    enum CodingKeys: String, CodingKey {
        case kind, model, promptChars = "prompt_chars", inputTokens = "input_tokens", outputTokens = "output_tokens"
        case latencyMS = "latency_ms", error, childRunID = "child_run_id", childStatus = "child_status", childIterations = "child_iterations"
        case promptPreview = "prompt_preview", answerPreview = "answer_preview"
    }
}

extension Step: Decodable {
    /// Reads a recorded step; steps recorded before `attempts` was kept count as one attempt.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        self.init(iteration: try fields.decode(Int.self, forKey: .iteration), reply: try fields.decode(String.self, forKey: .reply),
                  model: try fields.decode(String.self, forKey: .model), inputTokens: try fields.decode(Int.self, forKey: .inputTokens),
                  outputTokens: try fields.decode(Int.self, forKey: .outputTokens), latencyMS: try fields.decode(Double.self, forKey: .latencyMS),
                  blocks: try fields.decode([CodeRun].self, forKey: .blocks), feedback: try fields.decodeIfPresent(String.self, forKey: .feedback),
                  durationMS: try fields.decode(Double.self, forKey: .durationMS),
                  compaction: try fields.decodeIfPresent(Compaction.self, forKey: .compaction))
        finishReason = try fields.decodeIfPresent(String.self, forKey: .finishReason)
        attempts = try fields.decodeIfPresent(Int.self, forKey: .attempts) ?? 1
    }
}
