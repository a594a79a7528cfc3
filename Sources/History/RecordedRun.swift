import RLMCommon
import Foundation
import RLMEngine

/// One line of `runs list`: a run as the history holds it, without its steps.
public struct RunSummary: Sendable, Codable, Equatable {
    public var runID: String
    public var parentRunID: String?
    public var tool: String
    public var task: String
    public var status: String
    public var rootModel: String
    public var subModel: String
    public var iterations: Int
    public var llmCalls: Int
    public var totalTokens: Int
    public var costUSD: Double?
    public var startedAt: Date
    public var durationMS: Double?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", parentRunID = "parent_run_id", tool, task, status, rootModel = "root_model", subModel = "sub_model"
        case iterations, llmCalls = "llm_calls", totalTokens = "total_tokens", costUSD = "cost_usd", startedAt = "started_at"
        case durationMS = "duration_ms"
    }
}

/// A whole recorded run: what `runs show` and `runs export` print.
public struct RunDetail: Sendable, Codable, Equatable {
    public struct Context: Sendable, Codable, Equatable {
        public var kind: String
        public var size: Int
        public var preview: String
        /// Only with `RLM_HISTORY_CONTEXT=1`.
        public var full: String?
    }

    public var summary: RunSummary
    public var workspace: String?
    public var limits: JSONValue
    public var context: Context
    public var answer: JSONValue?
    public var message: String?
    public var usage: JSONValue?
    public var endedAt: Date?
    public var steps: [RecordedStep]
    /// Runs started by this one (rlm_query children, decompose subtasks).
    public var children: [String]

    enum CodingKeys: String, CodingKey {
        case summary = "run", workspace, limits, context, answer, message, usage, endedAt = "ended_at", steps, children
    }
}

/// What a live view of a run has not shown yet: the run's summary now and the steps after those it has.
public struct RunProgress: Sendable, Equatable {
    public var summary: RunSummary
    /// In order; empty when no step was recorded since.
    public var steps: [RecordedStep]

    public init(summary: RunSummary, steps: [RecordedStep]) {
        self.summary = summary
        self.steps = steps
    }
}

/// A recorded step, read back in the shape the engine's `Step` encodes to.
public struct RecordedStep: Sendable, Codable, Equatable {
    public var iteration: Int
    public var reply: String
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int
    public var latencyMS: Double
    public var blocks: [RecordedBlock]
    public var feedback: String?
    public var durationMS: Double

    enum CodingKeys: String, CodingKey {
        case iteration, reply, model, inputTokens = "input_tokens", outputTokens = "output_tokens", latencyMS = "latency_ms"
        case blocks, feedback, durationMS = "duration_ms"
    }
}

/// One code block of a recorded step, with its output as the model saw it.
public struct RecordedBlock: Sendable, Codable, Equatable {
    public var code: String
    public var stdout: String
    public var stderr: String
    public var error: String?
    public var submitted: Bool
    public var truncated: Bool
    public var durationMS: Double
    public var subCalls: [RecordedSubCall]

    enum CodingKeys: String, CodingKey {
        case code, stdout, stderr, error, submitted, truncated, durationMS = "duration_ms", subCalls = "sub_calls"
    }
}

/// One recorded sub-call.
public struct RecordedSubCall: Sendable, Codable, Equatable {
    public var kind: String
    public var model: String
    public var promptChars: Int
    public var inputTokens: Int
    public var outputTokens: Int
    public var latencyMS: Double
    public var error: String?
    public var childRunID: String?
    public var childStatus: String?
    public var promptPreview: String?
    public var answerPreview: String?

    enum CodingKeys: String, CodingKey {
        case kind, model, promptChars = "prompt_chars", inputTokens = "input_tokens", outputTokens = "output_tokens"
        case latencyMS = "latency_ms", error, childRunID = "child_run_id", childStatus = "child_status"
        case promptPreview = "prompt_preview", answerPreview = "answer_preview"
    }
}

/// Which runs a listing shows (`runs list`, the /runs page, the MCP resources); every field narrows it.
public struct RunFilter: Sendable, Equatable {
    public var limit: Int
    public var status: String?
    public var tool: String?
    /// Runs started at or after this moment.
    public var since: Date?
    /// Runs started before this moment.
    public var until: Date?
    /// Text the task contains (case-insensitive, taken literally: `%` and `_` are not wildcards).
    public var search: String?
    /// Only runs this caller may see; nil shows every run (the CLI and the local viewer).
    public var visibleTo: RunVisibility?
    /// Only this run (to check that a caller may see it).
    public var runID: String?

    public init(limit: Int = 20, status: String? = nil, tool: String? = nil, since: Date? = nil, until: Date? = nil,
                search: String? = nil, runID: String? = nil, visibleTo: RunVisibility? = nil) {
        self.limit = limit
        self.runID = runID
        self.status = status
        self.tool = tool
        self.since = since
        self.until = until
        self.search = search
        self.visibleTo = visibleTo
    }

    /// `search` as a LIKE pattern with its wildcards escaped (`\` is the escape character).
    var likePattern: String? {
        guard let search, !search.isEmpty else { return nil }
        let escaped = search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        return "%" + escaped + "%"
    }
}
