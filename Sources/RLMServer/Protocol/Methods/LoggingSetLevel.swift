import RLMCommon

/// `logging/setLevel` (handshake era): from now on tools' log lines at or above the level reach the client as
/// `notifications/message`. 2026-07-28 deprecates client logging, so that era neither offers nor advertises it.
enum LoggingSetLevel: MCPMethod {
    static let name = "logging/setLevel"
    static let eras: Set<Era> = [.handshake]

    static func respond(to call: MethodCall) async throws -> JSONValue {
        guard let session = call.session else { throw RPCError.methodNotFound(name, era: call.era) }
        guard let level = call.params["level"]?.stringValue.flatMap(LogLevel.init(rawValue:)) else {
            throw RPCError.invalidParams("Invalid params: logging/setLevel needs params.level, one of "
                + LogLevel.allCases.map(\.rawValue).joined(separator: ", "))
        }
        await session.setLogLevel(level)
        return [:]
    }

    /// The `notifications/message` a tool's log line becomes.
    static func message(_ level: LogLevel, _ text: String) -> OutgoingMessage {
        .notification("notifications/message", ["level": .string(level.rawValue), "logger": "rlm-mcp", "data": .string(text)])
    }
}
