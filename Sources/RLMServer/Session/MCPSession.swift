import MCP
import RLMConfig
import Telemetry

/// One MCP session (a stdio connection, a streamable-HTTP session or a legacy SSE stream): the swift-sdk `Server`
/// wired to the process-wide tool registry, and the calls it has in flight so that ending the session stops them.
public struct MCPSession: Sendable {
    public let id: String
    public let server: Server
    let calls: InFlightCalls
    let workspace: Workspace

    static let instructions = """
        rlm-mcp runs Recursive Language Model loops: a root model answers a task over a context of any size by writing Python \
        that runs in a sandbox where the context is a variable, calling sub-models on slices of it. Call rlm_status to see what \
        is configured.
        """

    /// Creates the session's server and registers its handlers; call `server.start(transport:)` next.
    /// `owner` is the workspace owner fingerprint of the client's bearer token ("" without one).
    public static func make(runtime: ServerRuntime, id: String, owner: String = "") async -> MCPSession {
        let server = Server(
            name: "rlm-mcp",
            version: RLMVersion.current,
            title: "RLM MCP server",
            instructions: instructions,
            capabilities: .init(tools: .init(listChanged: false))
        )
        let calls = InFlightCalls()
        // The session's default workspace: calls that name none use it, and it lives exactly as long as the session.
        let workspace = await runtime.workspaces.create(owner: owner, pinned: true)
        let registry = runtime.registry
        let detached = runtime.detachedWorkspace
        await server.withMethodHandler(ListTools.self) { _ in
            // TELEMETRY HOOK (span per request); swift-sdk does not pass this request's `_meta` on.
            try await TelemetryHooks.request(MCPRequestTrace(method: ListTools.name, sessionID: id)) {
                ListTools.Result(tools: registry.mcpTools)
            }
        }
        // Weak: the server owns this handler; the call holds the server only while it runs.
        await server.withMethodHandler(CallTool.self) { [weak server] params in
            let callServer = server
            let progress = ProgressReporter(token: params._meta?.progressToken) { notification in
                // A client that went away cannot receive progress; the call itself goes on until cancelled.
                try? await callServer?.notify(ProgressNotification.message(notification))
            }
            let caller = ToolCaller(sessionID: id, owner: owner, defaultWorkspace: workspace, detachedWorkspace: detached, progress: progress)
            let trace = TelemetryHooks.traceContext(meta: params._meta?.fields) // TELEMETRY HOOK (span per request)
            return try await TelemetryHooks.request(MCPRequestTrace(method: CallTool.name, target: params.name, sessionID: id,
                                                                    traceparent: trace.traceparent, tracestate: trace.tracestate),
                                                    failed: { $0.isError == true }) {
                try await calls.run {
                    try await registry.call(name: params.name, arguments: params.arguments, caller: caller)
                }
            }
        }
        await runtime.activity.sessionOpened()
        TelemetryHooks.sessionOpened(era: .handshake) // TELEMETRY HOOK
        return MCPSession(id: id, server: server, calls: calls, workspace: workspace)
    }

    /// Ends the session: cancels its calls in flight, stops the server and closes the transport, and deletes the
    /// session's sandbox.
    public func close(runtime: ServerRuntime) async {
        await calls.cancelAll()
        await server.stop()
        await runtime.workspaces.close(workspace)
        await runtime.activity.sessionClosed()
        TelemetryHooks.sessionClosed(era: .handshake) // TELEMETRY HOOK
    }
}

/// The tool calls a session is running, so that closing the session cancels them (and everything they started).
actor InFlightCalls {
    private var tasks: [Int: Task<CallTool.Result, Error>] = [:]
    private var nextID = 0
    private var closed = false

    /// Runs `operation` as a cancellable task; cancelling the caller (e.g. `notifications/cancelled`) cancels it too.
    func run(_ operation: @escaping @Sendable () async throws -> CallTool.Result) async throws -> CallTool.Result {
        guard !closed else { throw CancellationError() }
        let id = nextID
        nextID += 1
        let task = Task { try await operation() }
        tasks[id] = task
        defer { tasks[id] = nil }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    func cancelAll() {
        closed = true
        for task in tasks.values { task.cancel() }
    }
}

/// Unguessable session ids: 128 random bits as hex.
enum SessionIDs {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
