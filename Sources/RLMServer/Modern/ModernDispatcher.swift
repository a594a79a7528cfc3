import Foundation
import Logging
import MCP
import RLMConfig
import Telemetry

/// Serves MCP 2026-07-28 requests on the process-wide tool registry, whatever transport they came on: each request
/// is answered on its own, from its own `_meta` (no session), and every result carries `resultType` and the server's
/// identity.
struct ModernDispatcher: Sendable {
    /// Sends a notification that belongs to the request being served (progress, log messages).
    typealias Emit = @Sendable (Data) async -> Void

    let runtime: ServerRuntime
    /// `tools/list` rendered once: the tool set is fixed for the life of the process.
    private let toolList: Value
    private let serverInfo: Value

    /// How long clients may cache `tools/list` and `server/discover` (the tool set only changes with a restart).
    static let listTTLMilliseconds = 300_000

    init(runtime: ServerRuntime) {
        self.runtime = runtime
        // Built from the definitions' own schema values: encoding the SDK's `Tool`s and decoding them back cost ~14 ms
        // of start-up.
        toolList = .array(runtime.registry.tools.map(\.listing))
        serverInfo = ["name": "rlm-mcp", "title": "RLM MCP server", "version": .string(RLMVersion.current)]
    }

    /// Parses and checks a request (the errors a transport must give before it commits to a response shape).
    func parse(_ message: [String: Value]) throws(RPCError) -> ModernRequest {
        try ModernRequest.parse(message, tools: runtime.registry)
    }

    /// Whether this request is answered with a task handle rather than by running the tool while the client waits.
    func runsAsTask(_ request: ModernRequest) -> Bool {
        guard request.method == "tools/call", request.declaresTasks, let name = request.params["name"]?.stringValue else { return false }
        return runtime.registry.tool(named: name)?.longRunning == true
    }

    /// Serves a parsed request; returns the response message, or nil when the request was cancelled (no response is
    /// sent for a cancelled request). `owner` is the caller's workspace owner fingerprint.
    func handle(_ request: ModernRequest, owner: String, emit: @escaping Emit) async -> Data? {
        await reply(request, owner: owner, emit: emit)?.data
    }

    /// `handle`, with the HTTP status the streamable-HTTP binding gives the reply.
    func reply(_ request: ModernRequest, owner: String, emit: @escaping Emit) async -> (data: Data, status: Int)? {
        let failure: RPCError
        do {
            // TELEMETRY HOOK: a span per request, continuing the caller's trace from `_meta`.
            let trace = TelemetryHooks.traceContext(meta: request.meta)
            let requestID: String? = switch request.id { case .string(let text): text; case .int(let number): String(number); default: nil }
            let result = try await TelemetryHooks.request(MCPRequestTrace(
                method: request.method, target: request.method == "tools/call" ? request.params["name"]?.stringValue : nil, requestID: requestID,
                traceparent: trace.traceparent, tracestate: trace.tracestate, protocolVersion: ModernProtocol.version
            ), failed: { (answer: Value) in answer.objectValue?["isError"]?.boolValue == true }) { try await self.result(for: request, owner: owner, emit: emit) }
            try Task.checkCancellation()
            return (ModernProtocol.response(id: request.id, result: stamp(result)), 200)
        } catch is CancellationError {
            return nil
        } catch let error as RPCError {
            failure = error
        } catch let error as MCPError {
            failure = RPCError(code: error.code, message: error.errorDescription ?? "\(error)")
        } catch {
            failure = RPCError(code: -32603, message: "Internal error: \(error)")
        }
        return (ModernProtocol.response(id: request.id, error: failure), failure.httpStatus)
    }

    private func result(for request: ModernRequest, owner: String, emit: @escaping Emit) async throws -> Value {
        switch request.method {
        case "server/discover":
            return discoverResult
        case "tools/list":
            return ["tools": toolList, "ttlMs": .int(Self.listTTLMilliseconds), "cacheScope": "public"]
        case "tools/call":
            return try await callTool(request, owner: owner, emit: emit)
        case "tasks/get":
            return try await runtime.tasks.get(request.params["taskId"]!.stringValue!, owner: owner)
        case "tasks/cancel":
            try await runtime.tasks.cancel(request.params["taskId"]!.stringValue!, owner: owner)
            return .object([:])
        case "tasks/update":
            try await runtime.tasks.update(request.params["taskId"]!.stringValue!, owner: owner)
            return .object([:])
        default:
            throw RPCError.methodNotFound(request.method)
        }
    }

    var discoverResult: Value {
        [
            "supportedVersions": .array(ModernProtocol.allVersions.map(Value.string)),
            "capabilities": [
                "tools": ["listChanged": false],
                "extensions": .object([ModernProtocol.tasksExtension: .object([:])]),
            ],
            "instructions": .string(MCPSession.instructions + " Sandbox state lives in workspaces: pass back the `workspace` a "
                + "sandbox tool returns to keep working in the same sandbox."),
            "ttlMs": .int(Self.listTTLMilliseconds),
            "cacheScope": "public",
        ]
    }

    private func callTool(_ request: ModernRequest, owner: String, emit: @escaping Emit) async throws -> Value {
        let name = request.params["name"]!.stringValue!
        let arguments = request.params["arguments"]?.objectValue
        let registry = runtime.registry
        let detached = runtime.detachedWorkspace
        if runsAsTask(request) {
            // Task progress goes to the task's statusMessage; the request itself is answered now.
            return await runtime.tasks.start(owner: owner) { progress in
                let caller = ToolCaller(sessionID: "stateless", owner: owner, defaultWorkspace: nil, detachedWorkspace: detached, progress: progress)
                return try await registry.call(name: name, arguments: arguments, caller: caller)
            }.withResultType("task")
        }
        let progress = ProgressReporter(token: request.progressToken.flatMap(Self.progressToken)) { update in
            await emit(ModernProtocol.notification(ProgressNotification.name, ModernProtocol.value(update)))
        }
        // Logging is deprecated in 2026-07-28 ("migrate to stderr"), and a server that sends notifications/message must
        // declare the capability it should no longer adopt: tools' log lines go to the server's own log instead.
        let logger = runtime.logger
        let log = LogReporter(threshold: .debug) { level, message in
            logger.log(level: level.serverLevel, "\(message)", metadata: ["request": "\(request.id)"])
        }
        let caller = ToolCaller(sessionID: "stateless", owner: owner, defaultWorkspace: nil, detachedWorkspace: detached,
                                progress: progress, log: log)
        let result = try await registry.call(name: name, arguments: arguments, caller: caller)
        return ModernProtocol.value(result)
    }

    private static func progressToken(_ value: Value) -> ProgressToken? {
        switch value {
        case .string(let text): .string(text)
        case .int(let number): .integer(number)
        default: nil
        }
    }

    /// Every 2026-07-28 result says what it is and who answered.
    private func stamp(_ result: Value) -> Value {
        guard case .object(var fields) = result.withResultType() else { return result }
        var meta = fields["_meta"]?.objectValue ?? [:]
        meta[ModernProtocol.Meta.serverInfo] = serverInfo
        fields["_meta"] = .object(meta)
        return .object(fields)
    }
}
