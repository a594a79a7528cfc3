import Foundation
import Logging
import MCP

/// The 2024-11-05 HTTP+SSE transport for one client: server messages go down a `GET /sse` event stream, client
/// messages arrive by `POST /messages?sessionId=…`.
actor LegacySSETransport: Transport {
    nonisolated let logger: Logger
    private let incoming: AsyncThrowingStream<Data, Error>
    private let incomingContinuation: AsyncThrowingStream<Data, Error>.Continuation
    /// The bytes of the event stream the client is reading.
    nonisolated let events: AsyncStream<Data>
    private let eventsContinuation: AsyncStream<Data>.Continuation

    init(endpoint: String, logger: Logger) {
        self.logger = logger
        (incoming, incomingContinuation) = AsyncThrowingStream.makeStream()
        (events, eventsContinuation) = AsyncStream.makeStream()
        // The first event tells the client where to POST its messages.
        eventsContinuation.yield(SSE.event(Data(endpoint.utf8), name: "endpoint"))
    }

    func connect() async throws {}

    func disconnect() async {
        incomingContinuation.finish()
        eventsContinuation.finish()
    }

    func send(_ data: Data) async throws {
        eventsContinuation.yield(SSE.event(data))
    }

    func receive() -> AsyncThrowingStream<Data, Error> { incoming }

    /// A message the client POSTed.
    func deliver(_ message: Data) {
        incomingContinuation.yield(message)
    }

    /// Called once when the client stops reading the event stream.
    nonisolated func onClientGone(_ action: @escaping @Sendable () -> Void) {
        eventsContinuation.onTermination = { _ in action() }
    }

    /// A comment line keeps proxies and idle timers from closing a quiet stream.
    func keepAlive() {
        eventsContinuation.yield(Data(": keep-alive\n\n".utf8))
    }
}

/// The legacy SSE sessions: one per open `GET /sse` stream, closed when the client disconnects or on shutdown.
actor LegacySSESessions {
    private struct Entry {
        let session: MCPSession
        let transport: LegacySSETransport
    }

    private let runtime: ServerRuntime
    private var entries: [String: Entry] = [:]

    init(runtime: ServerRuntime) { self.runtime = runtime }

    /// Opens a session and returns the event stream to send to the client.
    func open(authorization: String? = nil) async throws -> AsyncStream<Data> {
        let id = SessionIDs.make()
        let transport = LegacySSETransport(endpoint: "/messages?sessionId=\(id)", logger: runtime.logger)
        let session = await MCPSession.make(runtime: runtime, id: id, owner: runtime.workspaceOwner(authorization: authorization))
        try await session.server.start(transport: transport)
        entries[id] = Entry(session: session, transport: transport)
        transport.onClientGone { [weak self] in
            Task { await self?.close(id: id) }
        }
        return transport.events
    }

    /// Routes a POSTed message; false when no such session is open.
    func deliver(_ message: Data, to id: String) async -> Bool {
        guard let entry = entries[id] else { return false }
        await entry.transport.deliver(message)
        return true
    }

    func keepAlive() async {
        for entry in entries.values { await entry.transport.keepAlive() }
    }

    func close(id: String) async {
        guard let entry = entries.removeValue(forKey: id) else { return }
        await entry.session.close(runtime: runtime)
    }

    func closeAll() async {
        for id in entries.keys { await close(id: id) }
    }
}
