import Foundation
import HTTPTypes
import Hummingbird
import RLMConfig

/// Login for the /runs pages when `MCP_AUTH_TOKEN` is set. Runs in front of the server's access guard: it answers the
/// login form itself, and turns a valid session cookie into the bearer header the guard checks, so the guard's Host,
/// Origin and token rules apply to every viewer page exactly as to /mcp. Other paths pass through untouched.
struct ViewerAccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let session: ViewerSession?
    let templates: ViewerTemplates

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/runs" || path.hasPrefix("/runs/"), let session else { return try await next(request, context) }
        if path.hasPrefix("/runs/static/") { return try await next(Self.authorized(request, session), context) }
        switch (path, request.method) {
        case ("/runs/login", .get):
            return ViewerResponse.html(templates.render(LoginPage(refused: false), as: "login"))
        case ("/runs/login", .post):
            guard SameOrigin.allows(request) else { return ViewerResponse.forbiddenOrigin() }
            let form = try await request.body.collect(upTo: 16 * 1024)
            let submitted = FormBody.value(of: "token", in: String(buffer: form)) ?? ""
            guard session.matches(submitted: submitted) else {
                return ViewerResponse.html(templates.render(LoginPage(refused: true), as: "login"), status: .unauthorized)
            }
            return ViewerResponse.redirect(to: "/runs", headers: [.setCookie: session.setCookie])
        case ("/runs/logout", .post):
            guard SameOrigin.allows(request) else { return ViewerResponse.forbiddenOrigin() }
            return ViewerResponse.redirect(to: "/runs/login", headers: [.setCookie: ViewerSession.clearCookie])
        default:
            if request.headers[.authorization] != nil { return try await next(request, context) }
            guard session.accepts(cookieHeader: request.headers[.cookie]) else {
                return request.method == .get ? ViewerResponse.redirect(to: "/runs/login") : ViewerResponse.html("login first", status: .unauthorized)
            }
            return try await next(Self.authorized(request, session), context)
        }
    }

    /// The request as the access guard should see it: carrying the token the cookie stands for.
    static func authorized(_ request: Request, _ session: ViewerSession) -> Request {
        guard session.accepts(cookieHeader: request.headers[.cookie]) else { return request }
        var head = request.head
        head.headerFields[.authorization] = "Bearer \(session.token.exposedValue)"
        return Request(head: head, body: request.body)
    }
}

/// The login form's values.
struct LoginPage: Sendable {
    var refused: Bool
}
