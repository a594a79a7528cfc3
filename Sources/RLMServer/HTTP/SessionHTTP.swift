import Foundation
import JSONRPCWire
import RLMCommon

/// One HTTP request to a handshake-era session, its body already parsed once by `JSONRPCMessage.parse`.
struct SessionHTTPRequest: Sendable {
    let method: String
    /// Header names lowercased.
    let headers: [String: String]
    /// The POST body's message; nil when there is no body.
    let message: JSONRPCMessage?

    init(method: String, headers: [String: String], message: JSONRPCMessage?) {
        self.method = method.uppercased()
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        self.message = message
    }

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// What a session answers an HTTP request with: a complete body, or an SSE stream.
enum SessionHTTPResponse: Sendable {
    case complete(status: Int, headers: [String: String], body: Data?)
    case stream(AsyncThrowingStream<Data, Error>, headers: [String: String])

    var statusCode: Int {
        switch self {
        case .complete(let status, _, _): status
        case .stream: 200
        }
    }

    static func ok(headers: [String: String]) -> SessionHTTPResponse { .complete(status: 200, headers: headers, body: nil) }
    static func accepted(headers: [String: String]) -> SessionHTTPResponse { .complete(status: 202, headers: headers, body: nil) }

    /// A JSON-RPC error body (id null: the HTTP layer refused the message before any request was read).
    static func error(statusCode: Int, _ error: RPCError, sessionID: String? = nil, extraHeaders: [String: String] = [:]) -> SessionHTTPResponse {
        var headers = extraHeaders
        headers["Content-Type"] = "application/json"
        if let sessionID { headers["Mcp-Session-Id"] = sessionID }
        return .complete(status: statusCode, headers: headers, body: OutgoingMessage.response(id: nil, error: error).data)
    }
}
