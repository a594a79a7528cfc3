import Foundation
#if !FUZZING
import RLMCommon
#endif

/// What one well-formed JSON-RPC message from a client is, decided by a single shallow parse before any handler sees it.
public enum IncomingMessage: Equatable, Sendable {
    case request(id: RequestID, method: String)
    /// `cancels` is the request id a `notifications/cancelled` names.
    case notification(method: String, cancels: RequestID?)
    case response(id: RequestID?)

    /// A request id exactly as sent: JSON-RPC ids are strings or numbers, and "7" is not 7.
    public enum RequestID: Hashable, Sendable {
        case string(String)
        case integer(Int64)

        /// The same key `JSONRPCPeek.key` and `ModernProtocol.key` give, so that every layer agrees on identity.
        public var key: String {
            switch self {
            case .string(let text): "s:" + text
            case .integer(let number): "n:" + String(number)
            }
        }
    }
}

/// A message `MessageCheck` accepted: what it is, and its `params` (empty when it has none), parsed once.
public struct CheckedMessage: Sendable {
    public let kind: IncomingMessage
    public let params: [String: JSONValue]
}

/// Why a message was refused: the JSON-RPC error to answer with, or (for a malformed notification, which has no one to
/// answer) nothing but a debug log.
public struct MessageRejection: Error, Equatable, Sendable {
    /// -32700 (not JSON), -32600 (not a valid request) or -32602 (bad params).
    public let code: Int
    /// One sentence saying what is wrong and what to send instead.
    public let message: String
    /// The id to answer with: the request's own when it could be read, else null as JSON-RPC prescribes.
    public let id: IncomingMessage.RequestID?
    /// False for a malformed notification: JSON-RPC forbids replying to one, so it is dropped.
    public let answerable: Bool
}
