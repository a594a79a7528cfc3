import Foundation
import JSONRPCWire
import Logging
import RLMCommon

/// One handshake-era streamable-HTTP session: a POSTed request that asks for progress is answered on an SSE stream of
/// its own (with the call's progress), any other request as one JSON body straight from the POST's handler; other server
/// messages go to the GET stream, DELETE ends the session, and a client that lost a stream gets what it missed with
/// `Last-Event-ID` from a bounded per-stream buffer.
///
/// Why not swift-sdk's `StatefulHTTPServerTransport`: it keeps every event of a session for replay and never drops one,
/// so a session grew by ~5 MB per 1,000 calls; and it sent progress to the GET stream, which a client may never open.
/// Here a request stream's events are dropped once its response went out on a live connection, and every kept buffer is
/// capped (`ReplayLimits`).
actor StreamableHTTPSession {
    nonisolated let logger: Logger
    let sessionID: String
    private let limits: ReplayLimits
    /// Receives the messages the client POSTs, in order (bound once the connection is open; it sends through `send`).
    private var connection: Connection?
    private var streams: [Int: EventStream] = [:]
    /// Request id key → its stream; progress token key → the stream of the call that carries it.
    private var requestStreams: [RequestID: Int] = [:]
    private var progressStreams: [RequestID: Int] = [:]
    private var standalone: Int?
    /// Request streams finished while their client was away, oldest first: kept for resumption, at most `limits.streams`.
    private var resumable: [Int] = []
    private var nextStreamIndex = 1
    private var terminated = false
    private var initialized = false
    /// POST response streams still waiting for their response: a session with calls in flight is never expired.
    private(set) var openCalls = 0

    init(sessionID: String, limits: ReplayLimits = .standard, logger: Logger) {
        self.sessionID = sessionID
        self.limits = limits
        self.logger = logger
    }

    func bind(_ connection: Connection) { self.connection = connection }

    /// Bytes held for replay across the session's streams (for tests and the memory benchmark).
    var bufferedBytes: Int { streams.values.reduce(0) { $0 + $1.buffer.byteCount } }
    var streamCount: Int { streams.count }

    // MARK: - Server → client

    /// Routes a server message by what it is: a response to its request's stream, progress to its call's stream, the rest
    /// to the GET stream. Dropped once the session ended.
    func send(_ message: OutgoingMessage) {
        guard !terminated else { return }
        let data = message.data
        switch message.route {
        case .response(let id?):
            guard let index = requestStreams.removeValue(forKey: id) else {
                logger.debug("response for a request with no stream", metadata: ["id": "\(id.key)"])
                return
            }
            emit(data, on: index)
            finishRequestStream(index)
        case .progress(let token):
            if let index = progressStreams[token], streams[index] != nil { emit(data, on: index) } else { emitStandalone(data) }
        case .response(nil), .other:
            emitStandalone(data)
        }
    }

    private func emitStandalone(_ data: Data) {
        let index = standalone ?? openStream(kind: .standalone)
        standalone = index
        emit(data, on: index)
    }

    private func emit(_ data: Data, on index: Int) {
        guard var stream = streams[index] else { return }
        stream.emit(data)
        streams[index] = stream
    }

    private func finishRequestStream(_ index: Int) {
        guard var stream = streams[index] else { return }
        openCalls -= 1
        progressStreams = progressStreams.filter { $0.value != index }
        stream.finish()
        if stream.isConnected {
            // Handed to a live connection: nothing left to replay.
            streams[index] = nil
        } else {
            streams[index] = stream
            resumable.append(index)
            while resumable.count > limits.streams { streams[resumable.removeFirst()] = nil }
        }
    }

    // MARK: - Client → server

    /// Handles one HTTP request for this session (the session map has matched its `Mcp-Session-Id`).
    func handle(_ request: SessionHTTPRequest) async -> SessionHTTPResponse {
        guard !terminated else {
            return .error(statusCode: 404, .invalidRequest("Not Found: the MCP session has ended; start a new one with initialize"))
        }
        switch request.method {
        case "POST": return await post(request)
        case "GET": return get(request)
        case "DELETE":
            terminate()
            return .ok(headers: sessionHeaders)
        default:
            return .error(statusCode: 405, .invalidRequest("Method Not Allowed: /mcp takes POST, GET and DELETE"),
                          sessionID: sessionID, extraHeaders: ["Allow": "GET, POST, DELETE"])
        }
    }

    private func post(_ request: SessionHTTPRequest) async -> SessionHTTPResponse {
        guard let accept = request.header("Accept"), accept.contains("application/json"), accept.contains("text/event-stream") else {
            return refuse(406, "Not Acceptable: a POST must accept both application/json and text/event-stream")
        }
        guard let type = request.header("Content-Type"), type.lowercased().hasPrefix("application/json") else {
            return refuse(415, "Unsupported Media Type: send the JSON-RPC message with Content-Type: application/json")
        }
        guard let message = request.message else { return refuse(400, "Bad Request: the POST has no body; send one JSON-RPC message") }
        if case .request(let initialize) = message, initialize.method == Initialize.name {
            guard !initialized else { return refuse(400, "Bad Request: this session is already initialized; start a new session without Mcp-Session-Id") }
            initialized = true
        } else if let version = request.header("MCP-Protocol-Version"), !HandshakeSession.versions.contains(version) {
            return refuse(400, "Bad Request: unsupported MCP-Protocol-Version \(version); this session speaks \(HandshakeSession.versions.joined(separator: ", "))")
        }
        guard case .request(let call) = message else {
            await connection?.receive(message)
            return .accepted(headers: sessionHeaders)
        }
        guard let token = call.progressToken else { return await answer(call) }
        let index = openStream(kind: .request)
        requestStreams[call.id] = index
        progressStreams[token] = index
        openCalls += 1
        // The stream must exist before the connection sees the request: its handler may report progress at once.
        let response = attach(to: index, after: 0, priming: Self.primes(request, initialize: call))
        await connection?.receive(message)
        return response
    }

    /// A request that asked for no progress has nothing to send before its response (its log lines go to the GET
    /// stream): the spec lets the server answer it as one JSON body, which spares an SSE stream, its priming event and
    /// the hand-offs between the call's task and the HTTP response. A cancelled request gets no response: 202, no body.
    private func answer(_ call: JSONRPCRequest) async -> SessionHTTPResponse {
        guard let connection else { return refuse(503, "Service Unavailable: the session is still opening; retry the request") }
        openCalls += 1
        let reply = await connection.answer(call)
        if !terminated { openCalls -= 1 }
        guard let reply else { return .accepted(headers: sessionHeaders) }
        var headers = sessionHeaders
        headers["Content-Type"] = "application/json"
        return .complete(status: 200, headers: headers, body: reply.data)
    }

    private func get(_ request: SessionHTTPRequest) -> SessionHTTPResponse {
        guard let accept = request.header("Accept"), accept.contains("text/event-stream") else {
            return refuse(406, "Not Acceptable: the GET stream needs Accept: text/event-stream")
        }
        if let lastEventID = request.header("Last-Event-ID") {
            guard let position = EventStream.parse(eventID: lastEventID), streams[position.index] != nil else {
                return refuse(400, "Bad Request: Last-Event-ID \(lastEventID) names no stream this session still keeps; "
                              + "re-send the request (kept: the last \(limits.events) events of up to \(limits.streams) streams)")
            }
            guard streams[position.index]?.isConnected == false else {
                return refuse(409, "Conflict: the stream of Last-Event-ID \(lastEventID) is still connected")
            }
            return attach(to: position.index, after: position.sequence, priming: Self.primes(request, initialize: nil))
        }
        let index = standalone ?? openStream(kind: .standalone)
        standalone = index
        guard streams[index]?.isConnected == false else {
            return refuse(409, "Conflict: this session's GET stream is already open; one is allowed per session")
        }
        return attach(to: index, after: streams[index]?.buffer.events.last?.sequence ?? 0, priming: Self.primes(request, initialize: nil))
    }

    // MARK: - Streams

    private func openStream(kind: EventStream.Kind) -> Int {
        let index = nextStreamIndex
        nextStreamIndex += 1
        streams[index] = EventStream(index: index, kind: kind, limits: limits)
        return index
    }

    /// Connects a new HTTP response to stream `index`, replaying its kept events after `sequence`.
    private func attach(to index: Int, after sequence: Int, priming: Bool) -> SessionHTTPResponse {
        let (body, continuation) = AsyncThrowingStream<Data, Error>.makeStream()
        guard let connection = streams[index]?.connect(continuation, after: sequence, priming: priming) else {
            return refuse(404, "Not Found: the stream has ended")
        }
        // The HTTP server lets go of the body when the response ends, written or not: if the stream still expected
        // events then, its client went away, and what follows is kept for a Last-Event-ID reconnect.
        let watch = ConnectionWatch { [weak self] in Task { await self?.detached(index, connection: connection) } }
        let source = IteratorBox(body.makeAsyncIterator())
        let watched = AsyncThrowingStream<Data, Error>(unfolding: { [watch] in
            withExtendedLifetime(watch) {}
            return try await source.next()
        })
        if streams[index]?.isFinished == true {
            // Everything it will ever hold was just replayed.
            streams[index] = nil
            resumable.removeAll { $0 == index }
        }
        var headers = sessionHeaders
        headers["Content-Type"] = "text/event-stream"
        headers["Cache-Control"] = "no-cache, no-transform"
        return .stream(watched, headers: headers)
    }

    /// What a dropped connection does, for tests that cannot drop a real one.
    func detachForTesting(_ index: Int) {
        if let connection = streams[index]?.connectionNumber { detached(index, connection: connection) }
    }

    /// The client went away from stream `index`: its events are kept (capped) until it resumes or the session ends.
    private func detached(_ index: Int, connection: Int) {
        streams[index]?.disconnect(connection)
    }

    /// Ends the session's streams (DELETE, expiry, shutdown).
    func terminateSession() { terminate() }

    private func terminate() {
        guard !terminated else { return }
        terminated = true
        for index in streams.keys { streams[index]?.finish() }
        streams.removeAll()
        requestStreams.removeAll()
        progressStreams.removeAll()
        resumable.removeAll()
        openCalls = 0
        connection = nil
    }

    private var sessionHeaders: [String: String] { ["Mcp-Session-Id": sessionID] }

    private func refuse(_ status: Int, _ message: String) -> SessionHTTPResponse {
        .error(statusCode: status, .invalidRequest(message), sessionID: sessionID)
    }

    /// Whether the client's protocol version (the header, or an initialize request's own) takes priming events.
    private static func primes(_ request: SessionHTTPRequest, initialize: JSONRPCRequest?) -> Bool {
        if let version = request.header("MCP-Protocol-Version") { return version >= "2025-03-26" }
        guard let initialize, initialize.method == Initialize.name, let version = initialize.params["protocolVersion"]?.stringValue else { return false }
        return version >= "2025-03-26"
    }
}

/// Server-sent-event framing shared by the streamable-HTTP and legacy SSE transports.
enum SSE {
    static func event(_ json: Data, name: String = "message", id: String? = nil) -> Data {
        var out = Data()
        if let id { out.append(contentsOf: Array("id: \(id)\n".utf8)) }
        out.append(contentsOf: Array("event: \(name)\ndata: ".utf8))
        out.append(json)
        out.append(contentsOf: Array("\n\n".utf8))
        return out
    }
}

/// Runs `action` once, when the HTTP response body holding it is released.
final class ConnectionWatch: Sendable {
    private let action: @Sendable () -> Void
    init(_ action: @escaping @Sendable () -> Void) { self.action = action }
    deinit { action() }
}

/// One response body's iterator: the HTTP server reads it from one task at a time.
private final class IteratorBox: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<Data, Error>.AsyncIterator
    init(_ iterator: AsyncThrowingStream<Data, Error>.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> Data? { try await iterator.next() }
}
