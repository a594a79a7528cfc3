import RLMCommon

/// `tools/call`: runs a tool in the caller's workspace, with progress and log lines tied to the request. A 2026-07-28
/// client that declared the Tasks extension gets a task handle for a long-running tool instead of waiting.
enum ToolsCall: MCPMethod {
    static let name = "tools/call"
    static let eras: Set<Era> = [.handshake, .modern]

    /// The tool and its arguments, checked: a missing or unknown name and non-object arguments are -32602.
    static func target(_ params: [String: JSONValue], tools: ToolRegistry) throws(RPCError) -> (name: String, arguments: [String: JSONValue]?) {
        guard case .string(let name)? = params["name"] else { throw .invalidParams("Invalid params: tools/call needs params.name, the tool to call") }
        guard tools.tool(named: name) != nil else { throw .unknownTool(name, available: tools.tools.map(\.name)) }
        switch params["arguments"] {
        case nil, .null?: return (name, nil)
        case .object(let arguments)?: return (name, arguments)
        default: throw .invalidParams("Invalid params: params.arguments must be an object")
        }
    }

    /// Whether this call is answered with a task handle rather than by running the tool while the client waits.
    static func runsAsTask(_ call: MethodCall) -> Bool {
        guard call.era == .modern, call.modern?.declaresTasks == true, let name = call.params["name"]?.stringValue else { return false }
        return call.runtime.registry.tool(named: name)?.longRunning == true
    }

    static func respond(to call: MethodCall) async throws -> JSONValue {
        let registry = call.runtime.registry
        let (name, arguments) = try target(call.params, tools: registry)
        let detached = call.runtime.detachedWorkspace
        if runsAsTask(call) {
            // Task progress goes to the task's statusMessage; the request itself is answered now.
            let owner = call.owner
            return try await call.runtime.tasks.start(owner: owner) { progress in
                let caller = ToolCaller(sessionID: "stateless", owner: owner, defaultWorkspace: nil, detachedWorkspace: detached, progress: progress)
                return try await registry.call(name: name, arguments: arguments, caller: caller)
            }.withResultType("task")
        }
        let emit = call.emit
        let progress = ProgressReporter(token: call.progressToken) { token, update in
            await emit(ProgressOut.message(token: token, update))
        }
        let caller = ToolCaller(sessionID: call.session?.id ?? "stateless", owner: call.owner, defaultWorkspace: call.session?.workspace,
                                detachedWorkspace: detached, progress: progress, log: await log(for: call))
        return try await registry.call(name: name, arguments: arguments, caller: caller).json
    }

    /// Handshake-era sessions get tools' log lines at the level they set; 2026-07-28 deprecates client logging ("migrate
    /// to stderr"), so there the lines go to the server's own log.
    private static func log(for call: MethodCall) async -> LogReporter {
        if let session = call.session {
            guard let level = await session.logLevel else { return .none }
            let emit = call.emit
            return LogReporter(threshold: level) { level, text in await emit(LoggingSetLevel.message(level, text)) }
        }
        let logger = call.runtime.logger
        let id = call.id
        return LogReporter(threshold: .debug) { level, message in
            logger.log(level: level.serverLevel, "\(message)", metadata: ["request": "\(id.json.displayText)"])
        }
    }
}
