import RLMCommon

/// Progress out: the `notifications/progress` a tool's `ProgressReporter` sends for a request that carried a
/// `progressToken`; routed to that request's stream.
enum ProgressOut {
    static let method = "notifications/progress"

    static func message(token: RequestID, _ update: ProgressUpdate) -> OutgoingMessage {
        var params: [String: JSONValue] = ["progressToken": token.json, "progress": .double(update.progress)]
        if let total = update.total { params["total"] = .double(total) }
        if let message = update.message { params["message"] = .string(message) }
        return .notification(method, .object(params), route: .progress(token))
    }
}

/// One progress report of a tool: how far, out of how much (when known), and what it is doing.
public struct ProgressUpdate: Sendable {
    public let progress: Double
    public let total: Double?
    public let message: String?
}
