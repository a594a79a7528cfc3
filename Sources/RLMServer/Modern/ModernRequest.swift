import MCP

/// One 2026-07-28 request after its envelope was checked: the `_meta` every request must carry, parsed.
struct ModernRequest: Sendable {
    let id: Value
    let method: String
    let params: [String: Value]
    let meta: [String: Value]
    let capabilities: [String: Value]
    let logLevel: LogLevel?

    /// Checks what every modern request needs, in the order that gives the most useful error: `_meta` and its
    /// required fields (-32602), the version (-32022), the method (-32601) and its own parameters (-32602).
    static func parse(_ message: [String: Value], tools: ToolRegistry) throws(RPCError) -> ModernRequest {
        guard let id = message["id"], ModernProtocol.key(id) != nil else {
            throw .invalidRequest("a JSON-RPC request needs an \"id\" that is a string or a number")
        }
        guard case .string(let method)? = message["method"] else { throw .invalidRequest("the request has no \"method\" string") }
        var params: [String: Value] = [:]
        switch message["params"] {
        case nil, .null?: break
        case .object(let object)?: params = object
        default: throw .invalidParams("\"params\" must be an object")
        }
        guard case .object(let meta)? = params["_meta"] else {
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
        guard ModernProtocol.methodsServed.contains(method) else { throw .methodNotFound(method) }
        let request = ModernRequest(id: id, method: method, params: params, meta: meta, capabilities: capabilities, logLevel: logLevel)
        try request.checkMethodParams(tools: tools)
        return request
    }

    var declaresTasks: Bool {
        guard case .object(let extensions)? = capabilities["extensions"] else { return false }
        return extensions[ModernProtocol.tasksExtension] != nil
    }

    var progressToken: Value? {
        switch meta["progressToken"] {
        case let token? where ModernProtocol.key(token) != nil: token
        default: nil
        }
    }

    private func checkMethodParams(tools: ToolRegistry) throws(RPCError) {
        switch method {
        case "tools/call":
            guard case .string(let name)? = params["name"] else { throw .invalidParams("tools/call needs params.name, the tool to call") }
            guard tools.tool(named: name) != nil else {
                throw .unknownTool(name, available: tools.tools.map(\.name))
            }
            switch params["arguments"] {
            case nil, .null?, .object?: break
            default: throw .invalidParams("params.arguments must be an object")
            }
        case "tools/list":
            if let cursor = params["cursor"], cursor != .null {
                throw .invalidParams("invalid cursor: tools/list returns every tool in one page and issues no cursors")
            }
        case "tasks/get", "tasks/update", "tasks/cancel":
            guard declaresTasks else { throw .missingCapability(ModernProtocol.tasksExtension, for: method) }
            guard params["taskId"]?.stringValue != nil else { throw .invalidParams("\(method) needs params.taskId (a string)") }
        default:
            break
        }
    }
}
