import Foundation
import RLMCommon

/// A message to the client, encoded once, with what a transport needs to route it (a request's response goes to that
/// request's stream, a progress notification to its call's stream) so that no transport parses it again.
struct OutgoingMessage: Sendable {
    enum Route: Sendable, Equatable {
        case response(RequestID?)
        case progress(RequestID)
        case other
    }

    let data: Data
    let route: Route

    static func response(id: RequestID, result: JSONValue) -> OutgoingMessage {
        OutgoingMessage(data: encode(["jsonrpc": "2.0", "id": id.json, "result": result]), route: .response(id))
    }

    static func response(id: RequestID?, error: RPCError) -> OutgoingMessage {
        var body: [String: JSONValue] = ["code": .int(error.code), "message": .string(error.message)]
        if let data = error.data { body["data"] = data }
        return OutgoingMessage(data: encode(["jsonrpc": "2.0", "id": id?.json ?? .null, "error": .object(body)]), route: .response(id))
    }

    static func notification(_ method: String, _ params: JSONValue, route: Route = .other) -> OutgoingMessage {
        OutgoingMessage(data: encode(["jsonrpc": "2.0", "method": .string(method), "params": params]), route: route)
    }

    static func encode(_ value: JSONValue) -> Data {
        value.wireData
    }
}
