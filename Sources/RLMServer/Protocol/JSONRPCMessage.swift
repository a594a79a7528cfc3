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
/// `id`/`method`/`params`), then the params are decoded once into `JSONValue` and nothing parses the bytes again.
enum JSONRPCMessage: Sendable {
    case request(JSONRPCRequest)
    case notification(JSONRPCNotification)
    /// A response to a server request: this server sends none, so these are dropped.
    case response

    static func parse(_ data: Data) -> Result<JSONRPCMessage, MessageRejection> {
        let kind: IncomingMessage
        switch MessageCheck.check(data) {
        case .failure(let rejection): return .failure(rejection)
        case .success(let checked): kind = checked
        }
        let params: [String: JSONValue]
        switch kind {
        case .response: return .success(.response)
        case .request, .notification:
            // The check saw an object (or nothing) under "params" and bounded the depth: this decode cannot fail on
            // shape nor recurse deeper than `MessageCheck.maxDepth`.
            params = JSONValueParser.parse(data)?["params"]?.objectValue ?? [:]
        }
        switch kind {
        case .request(let id, let method): return .success(.request(JSONRPCRequest(id: id, method: method, params: params)))
        case .notification(let method, _): return .success(.notification(JSONRPCNotification(method: method, params: params)))
        case .response: return .success(.response)
        }
    }
}

