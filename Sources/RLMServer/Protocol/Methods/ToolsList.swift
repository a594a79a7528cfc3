import RLMCommon

/// `tools/list`: every tool in one page, rendered once at start-up (the tool set is fixed for the life of the process).
enum ToolsList: MCPMethod {
    static let name = "tools/list"
    static let answersAlwaysTheSame = true
    static let eras: Set<Era> = [.handshake, .modern]
    /// How long 2026-07-28 clients may cache `tools/list` and `server/discover` (the tool set only changes with a restart).
    static let ttlMilliseconds = 300_000

    static func respond(to call: MethodCall) async throws -> JSONValue {
        if let cursor = call.params["cursor"], cursor != .null {
            throw RPCError.invalidParams("Invalid params: invalid cursor: tools/list returns every tool in one page and issues no cursors")
        }
        let tools = call.runtime.registry.listing
        guard call.era == .modern else { return ["tools": tools] }
        return ["tools": tools, "ttlMs": .int(ttlMilliseconds), "cacheScope": "public"]
    }
}
