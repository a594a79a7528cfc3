import Foundation
import History
import LanguageModels
import Logging
import RLMConfig
import RLMEngine

/// What every MCP session of one server process shares: configuration, the tool registry and the activity counters.
public final class ServerRuntime: Sendable {
    public let config: RLMConfig
    public let activity: ServerActivity
    public let registry: ToolRegistry
    public let sandboxes: SandboxProvider
    public let logger: Logger
    public let startedAt: ContinuousClock.Instant
    /// Every workspace of the process, by signed handle.
    public let workspaces: WorkspaceStore
    /// Tool calls running as Tasks-extension tasks (2026-07-28 clients that declared it).
    public let tasks: ToolTasks
    /// The run history the MCP resources read (`rlm://runs/<run_id>`); nil when it is off. Its store opens in the
    /// background: nothing that answers `initialize`, `tools/list`, `ping` or `rlm_status` waits for it.
    public let history: HistoryRecorder?
    /// Stands in for "no workspace" in tools that only inspect one.
    let detachedWorkspace: Workspace
    /// `tools/list` and `server/discover` answers, encoded once.
    let encodedResults = EncodedResults()

    /// `recorder` hears every run (the run history); `prices` gives runs their `cost_usd`; `history` serves the runs as
    /// MCP resources and, when it is PostgreSQL, shares Tasks state with the other replicas (once its store has opened).
    public init(config: RLMConfig, logger: Logger, recorder: any RunRecorder = NoRunRecorder(), prices: PriceTable = .defaults,
                history: HistoryRecorder? = nil) {
        let activity = ServerActivity()
        let startedAt = ContinuousClock.now
        let sandboxes = SandboxProvider(config: config)
        let workspaces = WorkspaceStore(
            handles: WorkspaceHandles(secret: config.workspaceKey?.exposedValue),
            provider: sandboxes,
            idleLimit: .seconds(config.workspaceIdleSeconds),
            // Replicas sharing the key serve each other's Daytona workspaces; local sandboxes die with their server.
            adoptsUnknownHandles: config.sandboxBackend == .daytona && config.workspaceKey != nil,
            maxPerOwner: config.maxWorkspaces
        )
        var groups: [any ToolGroup] = [
            StatusTool(config: config, activity: activity, sandboxes: sandboxes, workspaces: workspaces, startedAt: startedAt, history: history?.handle),
            SandboxTools(),
            RLMTools(engine: RLMEngine(config: config, logger: logger, recorder: recorder, prices: prices), config: config, activity: activity,
                     history: history?.handle),
        ]
        if config.diagnosticTools { groups.append(DiagnosticTools()) }
        let tools = groups.flatMap { $0.tools }
        self.config = config
        self.activity = activity
        self.startedAt = startedAt
        self.sandboxes = sandboxes
        self.logger = logger
        self.workspaces = workspaces
        self.tasks = ToolTasks(store: HistoryStores.taskState(sharing: history?.handle))
        self.history = history
        self.detachedWorkspace = Workspace(provider: sandboxes, closed: true)
        self.registry = ToolRegistry(tools: tools, activity: activity, logger: logger, workspaces: workspaces)
    }

    /// Starts getting the sandbox backend ready in the background, so the first sandbox or rlm call finds a worker
    /// waiting; the probes and the worker start run in child processes, off the tasks that answer requests.
    public func warmUp() {
        let sandboxes = sandboxes
        Task(priority: .utility) { await sandboxes.warmUp() }
    }

    /// Stops running tasks, deletes every workspace and what is left of the local sandboxes' directories.
    public func shutdown() async {
        await tasks.cancelAll()
        await workspaces.closeAll()
        await sandboxes.shutdown()
    }

    /// The workspace owner fingerprint for an `Authorization` header value (nil or not a bearer token: no owner).
    public func workspaceOwner(authorization: String?) -> String {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return "" }
        return workspaces.handles.owner(forToken: authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces))
    }
}
