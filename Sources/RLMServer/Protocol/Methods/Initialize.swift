import RLMCommon
import RLMConfig

/// `initialize` (handshake era): negotiates the version and opens the session.
enum Initialize: MCPMethod {
    static let name = "initialize"
    static let eras: Set<Era> = [.handshake]

    static let instructions = """
        rlm-mcp runs Recursive Language Model loops: a root model answers a task over a context of any size by writing Python \
        that runs in a sandbox where the context is a variable, calling sub-models on slices of it. Call rlm_status to see what \
        is configured.
        """

    static func respond(to call: MethodCall) async throws -> JSONValue {
        guard let session = call.session else { throw RPCError.methodNotFound(name, era: call.era) }
        guard let requested = call.params["protocolVersion"]?.stringValue else {
            throw RPCError.invalidParams("Invalid params: initialize needs params.protocolVersion, the MCP version the client speaks (e.g. \"\(HandshakeSession.versions[0])\")")
        }
        let version = try await session.initialize(requested: requested)
        return [
            "protocolVersion": .string(version),
            "capabilities": ["tools": ["listChanged": false], "logging": [:], "resources": ["listChanged": false]],
            "serverInfo": ["name": "rlm-mcp", "title": "RLM MCP server", "version": .string(RLMVersion.current)],
            "instructions": .string(instructions),
        ]
    }
}
