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
    /// Nil while the run is still going.
    public var usage: Usage?
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

/// A recorded step reads back as the engine's own `Step`: one type from the loop to the viewer.
public typealias RecordedStep = Step

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
