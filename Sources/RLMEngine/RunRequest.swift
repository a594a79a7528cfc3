import RLMCommon
import Foundation
import RLMConfig

/// What one RLM run should answer, over which context, with which models and limits.
public struct RunRequest: Sendable {
    public var task: String
    public var context: RunContext
    public var models: RunModels
    public var limits: RunLimits
    /// Extra guidance appended to the system prompt by a strategy (analysis, coding).
    public var instructions: String?
    /// Extra variables defined in the run's namespace before the first iteration (JSON object members).
    public var variables: [String: JSONValue]
    /// Who started the run, for the run history.
    public var origin: RunOrigin

    public init(task: String, context: RunContext = .none, models: RunModels, limits: RunLimits,
                instructions: String? = nil, variables: [String: JSONValue] = [:], origin: RunOrigin = .init()) {
        self.task = task
        self.context = context
        self.models = models
        self.limits = limits
        self.instructions = instructions
        self.variables = variables
        self.origin = origin
    }
}

/// Where the run's `context` variable comes from. The context never enters a prompt; only its shape does.
public enum RunContext: Sendable, Equatable {
    case none
    case text(String)
    /// A JSON document (object, array, …) loaded as Python values.
    case json(JSONValue)
    /// A file already in the sandbox, loaded as text, or as JSON when its name ends in `.json`.
    case sandboxFile(path: String)
}

/// The models of a run and which setting chose each, so errors can say what to change.
public struct RunModels: Sendable, Equatable {
    public var root: String
    public var sub: String
    public var rootSource: String
    public var subSource: String

    public init(root: String, sub: String, rootSource: String = "RLM_MODEL", subSource: String = "RLM_SUBTASK_MODEL") {
        self.root = root
        self.sub = sub
        self.rootSource = rootSource
        self.subSource = subSource
    }
}

/// The budgets of a run. Child runs started by `rlm_query` share their root run's call, token and time budgets.
public struct RunLimits: Sendable, Equatable {
    public var maxIterations: Int
    public var maxDepth: Int
    public var maxLLMCalls: Int
    /// nil: no token budget.
    public var maxTotalTokens: Int?
    public var timeout: Duration
    /// Wall-clock limit of one code execution.
    public var execTimeout: Duration
    /// Characters of output per code block the root model gets to read.
    public var maxOutputChars: Int
    /// nil: no money budget. Counts the models with a known price (`PriceTable`).
    public var maxCostUSD: Double?

    public init(maxIterations: Int = RunDefaults.maxIterations, maxDepth: Int = RunDefaults.maxDepth,
                maxLLMCalls: Int = RunDefaults.maxLLMCalls, maxTotalTokens: Int? = nil,
                timeout: Duration = .seconds(RunDefaults.timeoutSeconds), execTimeout: Duration = .seconds(120), maxOutputChars: Int = 20_000,
                maxCostUSD: Double? = nil) {
        self.maxIterations = maxIterations
        self.maxDepth = maxDepth
        self.maxLLMCalls = maxLLMCalls
        self.maxTotalTokens = maxTotalTokens
        self.timeout = timeout
        self.execTimeout = execTimeout
        self.maxOutputChars = maxOutputChars
        self.maxCostUSD = maxCostUSD
    }
}
