import Foundation
import HTTPTypes
import Hummingbird
import JSONRPCWire
import Logging
import NIOCore
import RLMCommon
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
        RunViewer.mount(on: router, config: config, history: runtime.history?.handle, logger: runtime.logger, guardedBy: AccessGuardMiddleware(policy: AccessPolicy(config: config))) // HISTORY HOOK: /runs pages behind the same guard; login first
        router.add(middleware: AccessGuardMiddleware(policy: AccessPolicy(config: config)))
        MetricsEndpoint.mount(on: router) // TELEMETRY HOOK: GET /metrics, behind the guard like /mcp
        let maxBody = config.maxRequestBodyMB * 1024 * 1024

        router.get("/health") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: HealthReport(uptime: runtime.startedAt.secondsAgo).body.wireData)))
        }

        var streamable: StreamableHTTPSessions?
        var legacy: LegacySSESessions?
        switch config.transport {
        case .streamableHTTP, .stdio:
            let sessions = StreamableHTTPSessions(runtime: runtime, idleLimit: .seconds(config.workspaceIdleSeconds))
            Self.mountStreamableHTTP(on: router, sessions: sessions, modern: ModernHTTPEndpoint(dispatcher: ProtocolDispatcher(runtime: runtime)),
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
            // The one parse of the message: everything after this reads the typed message.
            var message: JSONRPCMessage?
            if request.method == .post {
                switch JSONRPCMessage.parse(Data(buffer: body)) {
                case .failure(let rejection): return refuse(rejection)
                case .success(let parsed): message = parsed
                }
            }
            // Both eras share the endpoint: 2026-07-28 requests are told apart by their shape, the rest is a session's.
            if let response = await modern.respond(to: request, message: message) { return response }
            let response = await sessions.handle(SessionHTTPRequest(
                method: request.method.rawValue,
                headers: Dictionary(request.headers.map { ($0.name.canonicalName, $0.value) }, uniquingKeysWith: { first, _ in first }),
                message: message
            ))
            return Response(session: response)
        }
        router.post("/mcp", use: handler)
        router.get("/mcp", use: handler)
        router.delete("/mcp", use: handler)
    }

    private static func mountLegacySSE(on router: Router<BasicRequestContext>, sessions: LegacySSESessions, maxBody: Int) {
        router.get("/sse") { request, _ in
            let events = await sessions.open(authorization: request.headers[.authorization])
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
            let message: JSONRPCMessage
            switch JSONRPCMessage.parse(Data(buffer: body)) {
            case .failure(let rejection): return refuse(rejection)
            case .success(let parsed): message = parsed
            }
            guard await sessions.deliver(message, to: id) else {
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

/// The 4xx answer for a malformed JSON-RPC body (202 for a malformed notification, which gets no reply).
private func refuse(_ rejection: MessageRejection) -> Response {
    guard rejection.answerable else { return Response(status: .accepted) }
    return Response(status: .badRequest, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: rejection.reply)))
}

private func bodyTooLarge(_ maxBody: Int) -> Response {
    JSONRPCErrorResponse.make(status: .contentTooLarge,
        message: "request body exceeds \(maxBody / 1_048_576) MB; raise MCP_MAX_BODY_MB to accept larger requests")
}

extension Response {
    /// A session's answer as a Hummingbird response.
    init(session response: SessionHTTPResponse) {
        func fields(_ headers: [String: String]) -> HTTPFields {
            var fields = HTTPFields()
            for (name, value) in headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return fields
        }
        switch response {
        case let .stream(stream, headers):
            self.init(status: .ok, headers: fields(headers), body: ResponseBody(asyncSequence: stream.map { ByteBuffer(bytes: $0) }))
        case let .complete(status, headers, body):
            self.init(status: .init(code: status), headers: fields(headers),
                      body: body.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody())
        }
    }
}

/// Expires idle sessions and closes every session when the server shuts down.
struct SessionHousekeeping: Service {
    let streamable: StreamableHTTPSessions?
    let legacy: LegacySSESessions?
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await streamable?.expireIdle()
            }
        }
        await streamable?.closeAll()
        await legacy?.closeAll()
    }
}
