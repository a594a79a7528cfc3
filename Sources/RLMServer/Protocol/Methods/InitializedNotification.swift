import RLMCommon

/// `notifications/initialized`: the client finished its handshake. Nothing waits for it (requests before it are served).
enum InitializedNotification: MCPNotificationMethod {
    static let name = "notifications/initialized"
    static func receive(_ notification: JSONRPCNotification, on connection: Connection?) async {}
}
