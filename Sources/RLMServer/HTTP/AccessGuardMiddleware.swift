import Foundation
import HTTPTypes
import Hummingbird

/// Applies the `AccessPolicy` to every route. `/health` is probed by load balancers and Docker without credentials,
/// so it is spared the token, but not the Host and Origin checks (a rebound name must not reach any route).
struct AccessGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let policy: AccessPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var verdict = policy.check(host: request.head.authority, origin: request.headers[.origin], authorization: request.headers[.authorization])
        if request.uri.path == "/health", case .unauthorized = verdict { verdict = .allowed }
        switch verdict {
        case .allowed:
            return try await next(request, context)
        case let .forbiddenHost(message):
            return JSONRPCErrorResponse.make(status: .forbidden, message: message)
        case let .forbiddenOrigin(message):
            return JSONRPCErrorResponse.make(status: .forbidden, message: message)
        case let .unauthorized(message):
            return JSONRPCErrorResponse.make(status: .unauthorized, message: message, extraHeaders: [.wwwAuthenticate: "Bearer"])
        }
    }
}

/// An HTTP error response whose body is a JSON-RPC error, the shape MCP clients know how to report.
enum JSONRPCErrorResponse {
    static func make(status: HTTPResponse.Status, code: Int = -32600, message: String, extraHeaders: HTTPFields = [:]) -> Response {
        let data = OutgoingMessage.response(id: nil, error: RPCError(code: code, message: message)).data
        var headers = extraHeaders
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
