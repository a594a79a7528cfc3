import RLMCommon

/// A JSON-RPC error answer of either era, with the HTTP status the streamable-HTTP binding gives it.
struct RPCError: Error, Sendable, Equatable {
    let code: Int
    let message: String
    let data: JSONValue?

    init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    static func invalidParams(_ message: String) -> RPCError { .init(code: -32602, message: message) }
    static func invalidRequest(_ message: String) -> RPCError { .init(code: -32600, message: message) }
    static func internalError(_ message: String) -> RPCError { .init(code: -32603, message: "Internal error: " + message) }
    static func methodNotFound(_ method: String, era: Era) -> RPCError {
        let offered = MethodTable.names(for: era).sorted().joined(separator: ", ")
        return .init(code: -32601, message: "Method not found: \(method.prefix(64)) (this server offers \(offered))")
    }
    /// One sentence (clients show it as is); the tool names travel in `data.availableTools`.
    static func unknownTool(_ name: String, available: [String]) -> RPCError {
        .init(code: -32602, message: "Unknown tool \"\(name.prefix(64))\": call tools/list for the tools this server offers (also in error.data.availableTools)",
              data: ["availableTools": .array(available.map(JSONValue.string))])
    }
    static func headerMismatch(_ message: String) -> RPCError { .init(code: -32020, message: "Header mismatch: " + message) }
    static func unsupportedVersion(_ requested: String) -> RPCError {
        .init(code: -32022, message: "Unsupported protocol version \(requested); this server speaks \(ModernProtocol.allVersions.joined(separator: ", ")) "
              + "(the handshake-era versions through initialize)",
              data: ["supported": .array(ModernProtocol.allVersions.map(JSONValue.string)), "requested": .string(requested)])
    }
    static func missingCapability(_ extensionID: String, for method: String) -> RPCError {
        .init(code: -32021, message: "Missing required client capability: \(method) needs the \(extensionID) extension declared in "
              + "_meta[\"\(ModernProtocol.Meta.clientCapabilities)\"].extensions",
              data: ["requiredCapabilities": ["extensions": .object([extensionID: .object([:])])]])
    }

    /// The status the streamable-HTTP binding prescribes (400 for the modern errors, 404 for an unknown method).
    var httpStatus: Int {
        switch code {
        case -32601: 404
        case -32603: 500
        default: 400
        }
    }
}
