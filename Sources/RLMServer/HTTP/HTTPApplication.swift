import Foundation
import HTTPTypes
import Hummingbird
import JSONRPCWire
import Logging
import MCP
import NIOCore
import RLMConfig
import RunViewer
import ServiceLifecycle

/// The HTTP face of the server: `/mcp` (streamable HTTP) or `/sse` + `/messages` (legacy HTTP+SSE), and `/health`.
public struct HTTPApplication {
    public let application: any Service
    /// Closes sessions on shutdown; must be shut down before `application`, whose graceful stop waits for open streams.
    public let housekeeping: any Service

    /// `onListening` receives the bound port (useful with `MCP_PORT=0`).
    public init(runtime: ServerRuntime, onListening: @escaping @Sendable (Int) async -> Void) {
        let config = runtime.config
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: HTTPRequestMetricsMiddleware()) // TELEMETRY HOOK: before the guard, so refusals count too
        RunViewer.mount(on: router, config: config, logger: runtime.logger, guardedBy: AccessGuardMiddleware(policy: AccessPolicy(config: config))) // HISTORY HOOK: /runs pages behind the same guard; login first
        router.add(middleware: AccessGuardMiddleware(policy: AccessPolicy(config: config)))
        MetricsEndpoint.mount(on: router) // TELEMETRY HOOK: GET /metrics, behind the guard like /mcp
        let maxBody = config.maxRequestBodyMB * 1024 * 1024

        router.get("/health") { _, _ in
            let body: [String: Any] = ["status": "ok", "version": RLMVersion.current, "uptime_s": (runtime.startedAt.secondsAgo * 1000).rounded() / 1000]
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))))
        }

        var streamable: StreamableHTTPSessions?
        var legacy: LegacySSESessions?
        switch config.transport {
        case .streamableHTTP, .stdio:
            let sessions = StreamableHTTPSessions(runtime: runtime, idleLimit: .seconds(config.workspaceIdleSeconds))
            Self.mountStreamableHTTP(on: router, sessions: sessions, modern: ModernHTTPEndpoint(dispatcher: ModernDispatcher(runtime: runtime)),
                                     maxBody: maxBody)
            streamable = sessions
        case .sse:
            let sessions = LegacySSESessions(runtime: runtime)
            Self.mountLegacySSE(on: router, sessions: sessions, maxBody: maxBody)
            legacy = sessions
        }

        application = Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? config.port) },
            logger: runtime.logger
        )
        housekeeping = SessionHousekeeping(
            streamable: streamable,
            legacy: legacy,
            interval: .seconds(max(1, min(30, config.workspaceIdleSeconds / 4)))
        )
    }

    private static func mountStreamableHTTP(on router: Router<BasicRequestContext>, sessions: StreamableHTTPSessions,
                                            modern: ModernHTTPEndpoint, maxBody: Int) {
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            guard let body = try await collectBody(request, upTo: maxBody) else { return bodyTooLarge(maxBody) }
            if request.method == .post, let refused = refuseMalformed(body) { return refused }
            // Both eras share the endpoint: 2026-07-28 requests are told apart by their shape, the rest is a session's.
            if let response = await modern.respond(to: request, body: body) { return response }
            let response = await sessions.handle(MCP.HTTPRequest(
                method: request.method.rawValue,
                headers: Dictionary(request.headers.map { ($0.name.canonicalName, $0.value) }, uniquingKeysWith: { first, _ in first }),
                body: body.readableBytes == 0 ? nil : Data(buffer: body),
                path: request.uri.path
            ))
            return Response(mcp: response)
        }
        router.post("/mcp", use: handler)
        router.get("/mcp", use: handler)
        router.delete("/mcp", use: handler)
    }

    private static func mountLegacySSE(on router: Router<BasicRequestContext>, sessions: LegacySSESessions, maxBody: Int) {
        router.get("/sse") { request, _ in
            let events = try await sessions.open(authorization: request.headers[.authorization])
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache, no-transform"],
                body: ResponseBody(asyncSequence: events.map { ByteBuffer(bytes: $0) })
            )
        }
        router.post("/messages") { request, _ in
            guard let id = request.uri.queryParameters["sessionId"].map(String.init) else {
                return JSONRPCErrorResponse.make(status: .badRequest, message: "missing sessionId query parameter; use the endpoint the /sse stream announced")
            }
            guard let body = try await collectBody(request, upTo: maxBody) else { return bodyTooLarge(maxBody) }
            if let refused = refuseMalformed(body) { return refused }
            guard await sessions.deliver(Data(buffer: body), to: id) else {
                return JSONRPCErrorResponse.make(status: .notFound, message: "no open SSE session \(id); reconnect to /sse")
            }
            return Response(status: .accepted, body: ResponseBody(byteBuffer: ByteBuffer(string: "Accepted")))
        }
    }
}

/// The whole request body, or nil when it is larger than `maxBody`.
private func collectBody(_ request: Request, upTo maxBody: Int) async throws -> ByteBuffer? {
    do {
        return try await request.body.collect(upTo: maxBody)
    } catch is NIOTooManyBytesError {
        return nil
    }
}

/// The 4xx answer for a malformed JSON-RPC body (202 for a malformed notification, which gets no reply), or nil when the
/// body is a well-formed message.
private func refuseMalformed(_ body: ByteBuffer) -> Response? {
    guard case .failure(let rejection) = MessageCheck.check(Data(buffer: body)) else { return nil }
    guard rejection.answerable else { return Response(status: .accepted) }
    return Response(status: .badRequest, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: rejection.reply)))
}

private func bodyTooLarge(_ maxBody: Int) -> Response {
    JSONRPCErrorResponse.make(status: .contentTooLarge,
        message: "request body exceeds \(maxBody / 1_048_576) MB; raise MCP_MAX_BODY_MB to accept larger requests")
}

extension Response {
    /// Converts the SDK's framework-neutral response into a Hummingbird one.
    init(mcp response: MCP.HTTPResponse) {
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let status = HTTPResponse.Status(code: response.statusCode)
        switch response {
        case let .stream(stream, _):
            self.init(status: status, headers: headers, body: ResponseBody(asyncSequence: stream.map { ByteBuffer(bytes: $0) }))
        default:
            let body = response.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody()
            self.init(status: status, headers: headers, body: body)
        }
    }
}

/// Expires idle sessions, keeps legacy SSE streams alive, and closes every session when the server shuts down.
struct SessionHousekeeping: Service {
    let streamable: StreamableHTTPSessions?
    let legacy: LegacySSESessions?
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await streamable?.expireIdle()
                await legacy?.keepAlive()
            }
        }
        await streamable?.closeAll()
        await legacy?.closeAll()
    }
}
