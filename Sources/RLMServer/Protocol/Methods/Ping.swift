import RLMCommon

/// `ping`: an empty result, at any time.
enum Ping: MCPMethod {
    static let name = "ping"
    static let eras: Set<Era> = [.handshake]
    static func respond(to call: MethodCall) async throws -> JSONValue { [:] }
}
