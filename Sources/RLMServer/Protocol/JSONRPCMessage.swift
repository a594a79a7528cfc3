import Foundation
import JSONRPCWire
import RLMCommon

/// A request of either era, its params decoded once.
struct JSONRPCRequest: Sendable {
    let id: RequestID
    let method: String
    let params: [String: JSONValue]

    /// `params._meta.progressToken`, when the client asked for progress.
    var progressToken: RequestID? {
        params["_meta"]?["progressToken"].flatMap(RequestID.init(json:))
    }
}

/// A notification from the client (no id, never answered).
struct JSONRPCNotification: Sendable {
    let method: String
    let params: [String: JSONValue]
}

/// One message from a client after its single parse: `MessageCheck` vouches for the envelope (depth, UTF-8, kinds of
/// `id`/`method`/`params`) of the `JSONValue` it parsed, and nothing parses the bytes again.
enum JSONRPCMessage: Sendable {
    case request(JSONRPCRequest)
    case notification(JSONRPCNotification)
    /// A response to a server request: this server sends none, so these are dropped.
    case response

    static func parse(_ data: Data) -> Result<JSONRPCMessage, MessageRejection> {
        MessageCheck.parse(data).map { checked in
            switch checked.kind {
            case .request(let id, let method): .request(JSONRPCRequest(id: id, method: method, params: checked.params))
            case .notification(let method, _): .notification(JSONRPCNotification(method: method, params: checked.params))
            case .response: .response
            }
        }
    }
}
