import RLMCommon

/// One 2026-07-28 request after its envelope was checked: the `_meta` every request must carry, parsed.
struct ModernRequest: Sendable {
    let meta: [String: JSONValue]
    let capabilities: [String: JSONValue]
    let logLevel: LogLevel?

    /// Checks what every modern request needs, in the order that gives the most useful error: `_meta` and its
    /// required fields (-32602), the version (-32022), the method (-32601) and its own parameters (-32602).
    static func parse(_ request: JSONRPCRequest, tools: ToolRegistry) throws(RPCError) -> ModernRequest {
        guard case .object(let meta)? = request.params["_meta"] else {
            throw .invalidParams("params._meta is required on MCP \(ModernProtocol.version) requests: it must carry "
                + "\"\(ModernProtocol.Meta.protocolVersion)\" and \"\(ModernProtocol.Meta.clientCapabilities)\"")
        }
        guard let versionValue = meta[ModernProtocol.Meta.protocolVersion] else {
            throw .invalidParams("params._meta[\"\(ModernProtocol.Meta.protocolVersion)\"] is missing; set it to \"\(ModernProtocol.version)\"")
        }
        guard case .string(let version) = versionValue else {
            throw .invalidParams("params._meta[\"\(ModernProtocol.Meta.protocolVersion)\"] must be a string such as \"\(ModernProtocol.version)\"")
        }
        guard ModernProtocol.supportedVersions.contains(version) else { throw .unsupportedVersion(version) }
        guard case .object(let capabilities)? = meta[ModernProtocol.Meta.clientCapabilities] else {
            throw .invalidParams("params._meta[\"\(ModernProtocol.Meta.clientCapabilities)\"] is missing or not an object "
                + "(send {} when the client has no optional capabilities)")
        }
        var logLevel: LogLevel?
        if let level = meta[ModernProtocol.Meta.logLevel] {
            guard let parsed = level.stringValue.flatMap(LogLevel.init(rawValue:)) else {
                throw .invalidParams("params._meta[\"\(ModernProtocol.Meta.logLevel)\"] must be one of "
                    + LogLevel.allCases.map(\.rawValue).joined(separator: ", "))
            }
            logLevel = parsed
        }
        guard MethodTable.method(named: request.method, era: .modern) != nil else { throw .methodNotFound(request.method, era: .modern) }
        let parsed = ModernRequest(meta: meta, capabilities: capabilities, logLevel: logLevel)
        try parsed.checkMethodParams(request, tools: tools)
        return parsed
    }

    var declaresTasks: Bool {
        guard case .object(let extensions)? = capabilities["extensions"] else { return false }
        return extensions[ModernProtocol.tasksExtension] != nil
    }

    /// The checks an HTTP transport must make before it commits to a response shape (JSON or an SSE stream).
    private func checkMethodParams(_ request: JSONRPCRequest, tools: ToolRegistry) throws(RPCError) {
        switch request.method {
        case ToolsCall.name:
            _ = try ToolsCall.target(request.params, tools: tools)
        case ToolsList.name:
            if let cursor = request.params["cursor"], cursor != .null {
                throw .invalidParams("invalid cursor: tools/list returns every tool in one page and issues no cursors")
            }
        case TasksGet.name, TasksUpdate.name, TasksCancel.name:
            guard declaresTasks else { throw .missingCapability(ModernProtocol.tasksExtension, for: request.method) }
            guard request.params["taskId"]?.stringValue != nil else { throw .invalidParams("\(request.method) needs params.taskId (a string)") }
        default:
            break
        }
    }
}
