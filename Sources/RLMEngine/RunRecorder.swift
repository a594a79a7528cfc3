import RLMCommon
import Foundation

/// Where the engine reports each run as it happens, for the run history. `record` must return at once: an
/// implementation queues the event and writes it elsewhere, so recording never sits on a run's critical path.
public protocol RunRecorder: Sendable {
    func record(_ event: RunEvent)
}

/// Records nothing: the default when history is off, and for engines built in tests.
public struct NoRunRecorder: RunRecorder {
    public init() {}
    public func record(_ event: RunEvent) {}
}

/// What a recorder hears about a run: its start, each finished step, its end.
public enum RunEvent: Sendable {
    case started(RunStart)
    case step(runID: String, Step)
    case finished(RunEnd)
}

/// Who started a run: the tool (or `run` for `rlm-mcp run`), a fingerprint of its workspace, its parent run.
public struct RunOrigin: Sendable, Equatable {
    public var tool: String
    /// A fingerprint of the workspace handle, never the handle itself (a handle is a capability).
    public var workspace: String?
    public var parentRunID: String?
    /// A fingerprint of the caller (its bearer token's, or its session's), so MCP resources show each caller its own runs.
    public var owner: String?

    public init(tool: String = "rlm_execute", workspace: String? = nil, parentRunID: String? = nil, owner: String? = nil) {
        self.tool = tool
        self.workspace = workspace
        self.parentRunID = parentRunID
        self.owner = owner
    }
}

/// A run as it starts. The context is passed whole; the recorder decides how much of it to keep.
public struct RunStart: Sendable {
    public var runID: String
    public var origin: RunOrigin
    public var task: String
    public var models: RunModels
    public var limits: RunLimits
    public var context: RunContext
    public var startedAt: Date

    public init(runID: String, origin: RunOrigin, task: String, models: RunModels, limits: RunLimits, context: RunContext, startedAt: Date) {
        self.runID = runID
        self.origin = origin
        self.task = task
        self.models = models
        self.limits = limits
        self.context = context
        self.startedAt = startedAt
    }
}

/// A run as it ends.
public struct RunEnd: Sendable {
    public var runID: String
    public var status: RunStatus
    public var answer: JSONValue?
    public var message: String?
    public var iterations: Int
    public var llmCalls: Int
    public var usage: Usage
    public var durationMS: Double
    public var endedAt: Date

    public init(runID: String, status: RunStatus, answer: JSONValue? = nil, message: String? = nil, iterations: Int, llmCalls: Int,
                usage: Usage, durationMS: Double, endedAt: Date) {
        self.runID = runID
        self.status = status
        self.answer = answer
        self.message = message
        self.iterations = iterations
        self.llmCalls = llmCalls
        self.usage = usage
        self.durationMS = durationMS
        self.endedAt = endedAt
    }
}

extension RunResult {
    /// The end event of this result; `usage` is the run's own (child runs share their root's ledger).
    var endEvent: RunEnd {
        RunEnd(runID: runID, status: status, answer: answer, message: message, iterations: iterations, llmCalls: llmCalls,
               usage: usage, durationMS: durationMS, endedAt: Date())
    }
}
