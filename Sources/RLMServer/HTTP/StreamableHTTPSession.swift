import Foundation
import Logging
import MCP

/// One streamable-HTTP MCP session: the SDK's `StatefulHTTPServerTransport`, plus delivery of each call's progress
/// notifications on that call's own POST response stream.
///
/// The SDK routes every server notification to the standalone GET stream, which a client may not have opened yet (or at
/// all), so progress for a call could arrive late or never. The spec lets a server send notifications related to a
/// request on that request's stream; this wrapper does so for `notifications/progress` whose token belongs to a call in
/// flight, and passes everything else through unchanged.
actor StreamableHTTPSession: Transport {
    nonisolated let logger: Logger
    private let inner: StatefulHTTPServerTransport
    /// progressToken (as JSON text) → the open POST stream of the call that carries it.
    private var progressStreams: [String: AsyncThrowingStream<Data, Error>.Continuation] = [:]
    /// POST response streams still open: a session with calls in flight is never expired.
    private(set) var openCalls = 0

    init(sessionID: String, logger: Logger) {
        self.logger = logger
        self.inner = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: sessionID),
            // Origin and bearer checks happen earlier, in AccessGuardMiddleware, with the configured allow-list.
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .sseRequired),
                ContentTypeValidator(),
                ProtocolVersionValidator(),
                SessionValidator(),
            ]),
            logger: logger
        )
    }

    /// The inner transport's message stream, fetched in `connect()` because `receive()` must answer synchronously.
    private var incoming: AsyncThrowingStream<Data, Error>?

    func connect() async throws {
        try await inner.connect()
        incoming = await inner.receive()
    }

    func disconnect() async { await inner.disconnect() }

    func receive() -> AsyncThrowingStream<Data, Error> {
        incoming ?? AsyncThrowingStream { $0.finish(throwing: MCPError.internalError("transport used before connect()")) }
    }

    func send(_ data: Data) async throws {
        if let token = Self.progressToken(inNotification: data), let stream = progressStreams[token] {
            stream.yield(SSE.event(data))
            return
        }
        try await inner.send(data)
    }

    /// Handles one HTTP request for this session.
    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == "POST", let body = request.body, let call = Self.requestInfo(body) else {
            return await inner.handleRequest(request)
        }
        // Register before the SDK sees the request: its handler may report progress before `handleRequest` returns.
        let (merged, continuation) = AsyncThrowingStream<Data, Error>.makeStream()
        if let token = call.progressToken { progressStreams[token] = continuation }
        let response = await inner.handleRequest(request)
        guard case let .stream(responseStream, headers) = response else {
            if let token = call.progressToken { progressStreams[token] = nil }
            continuation.finish()
            return response
        }
        openCalls += 1
        Task { [weak self] in
            do {
                for try await chunk in responseStream { continuation.yield(chunk) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
            await self?.callEnded(progressToken: call.progressToken)
        }
        return .stream(merged, headers: headers)
    }

    private func callEnded(progressToken: String?) {
        openCalls -= 1
        if let progressToken { progressStreams[progressToken] = nil }
    }

    // MARK: - Peeking into JSON-RPC messages

    private struct RequestInfo { let progressToken: String? }

    /// A JSON-RPC request's progress token, if it is a request at all.
    private static func requestInfo(_ body: Data) -> RequestInfo? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              object["method"] is String, object["id"] != nil
        else { return nil }
        let meta = (object["params"] as? [String: Any])?["_meta"] as? [String: Any]
        return RequestInfo(progressToken: meta?["progressToken"].flatMap(JSONRPCPeek.key))
    }

    private static func progressToken(inNotification data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              object["method"] as? String == ProgressNotification.name, object["id"] == nil,
              let params = object["params"] as? [String: Any], let token = params["progressToken"]
        else { return nil }
        return JSONRPCPeek.key(token)
    }
}

/// Always hands out the id that the session map minted, so the map knows a session's id before the SDK answers.
private struct FixedSessionID: SessionIDGenerator {
    let id: String
    func generateSessionID() -> String { id }
}

/// Server-sent-event framing shared by the streamable-HTTP and legacy SSE transports.
enum SSE {
    static func event(_ json: Data, name: String = "message") -> Data {
        var out = Data("event: \(name)\ndata: ".utf8)
        out.append(json)
        out.append(contentsOf: Array("\n\n".utf8))
        return out
    }
}
