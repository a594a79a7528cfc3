import RLMCommon

/// `notifications/cancelled`: stops the named request of this connection and sends nothing more for it.
enum CancelledNotification: MCPNotificationMethod {
    static let name = "notifications/cancelled"

    static func receive(_ notification: JSONRPCNotification, on connection: Connection?) async {
        guard let id = notification.params["requestId"].flatMap(RequestID.init(json:)) else { return }
        await connection?.cancel(id)
    }
}
