import Foundation
import HTTPTypes
import Hummingbird
import RLMConfig

/// The access rules of `rlm-mcp runs serve`, which listens on 127.0.0.1 only: the Host must be a loopback name (a
/// DNS-rebound name is refused), a browser's Origin must be a loopback page, and with `MCP_AUTH_TOKEN` set the bearer
/// token (which the login cookie stands for) must match it, as on /mcp.
struct LoopbackGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: Secret?
    static var loopbackNames: Set<String> { ["127.0.0.1", "localhost", "::1", "[::1]"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authority = request.head.authority, Self.loopbackNames.contains(Self.hostPart(authority)) else {
            return ViewerResponse.text("this viewer answers only to 127.0.0.1 and localhost", status: .forbidden)
        }
        if let origin = request.headers[.origin] {
            guard let host = URLComponents(string: origin)?.host, Self.loopbackNames.contains(host) else {
                return ViewerResponse.text("pages on \(origin.prefix(200)) may not use this viewer", status: .forbidden)
            }
        }
        if let token {
            let presented = request.headers[.authorization].flatMap { $0.lowercased().hasPrefix("bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
            guard ViewerSession.constantTimeEquals(presented, token.exposedValue) else {
                return ViewerResponse.text("log in at /runs/login, or send Authorization: Bearer <MCP_AUTH_TOKEN>", status: .unauthorized)
            }
        }
        return try await next(request, context)
    }

    static func hostPart(_ authority: String) -> String {
        if authority.hasPrefix("[") { return String(authority.prefix { $0 != "]" }) + "]" }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "")
    }
}
