import Foundation
import Logging

/// The 2024-11-05 HTTP+SSE transport for one client: server messages go down a `GET /sse` event stream, client
/// messages arrive by `POST /messages?sessionId=…`.
final class LegacySSEStream: Sendable {
    /// The bytes of the event stream the client is reading.
    let events: AsyncStream<Data>
    private let continuation: AsyncStream<Data>.Continuation

    init(endpoint: String) {
        (events, continuation) = AsyncStream.makeStream()
        // The first event tells the client where to POST its messages.
        continuation.yield(SSE.event(Data(endpoint.utf8), name: "endpoint"))
    }

    func send(_ message: OutgoingMessage) { continuation.yield(SSE.event(message.data)) }

    /// A comment line: keeps proxies from closing a quiet stream, and a write is how a dropped client is noticed.
    func keepAlive() { continuation.yield(Data(":\n\n".utf8)) }

    func finish() { continuation.finish() }

    /// Called once when the client stops reading the event stream.
    func onClientGone(_ action: @escaping @Sendable () -> Void) {
        continuation.onTermination = { _ in action() }
    }
}

/// The legacy SSE sessions: one per open `GET /sse` stream, closed (and their calls cancelled) when the client
/// disconnects or on shutdown.
actor LegacySSESessions {
    private struct Entry {
        let connection: Connection
        let stream: LegacySSEStream
        let keepAlive: Task<Void, Never>
    }

    /// How often an open stream gets a comment: a dropped connection is only noticed when a write fails, so this bounds
    /// how long a gone client's calls run on (the interop suite checks they stop within a second).
    static let keepAliveInterval = Duration.milliseconds(250)

    private let runtime: ServerRuntime
    private var entries: [String: Entry] = [:]

    init(runtime: ServerRuntime) { self.runtime = runtime }

    /// Opens a session and returns the event stream to send to the client. The session closes (cancelling its calls)
    /// when the HTTP server lets go of that stream: after a write to a gone client failed, or at shutdown.
    func open(authorization: String? = nil) async -> AsyncThrowingStream<Data, Error> {
        let id = SessionIDs.make()
        let stream = LegacySSEStream(endpoint: "/messages?sessionId=\(id)")
        let connection = await Connection.open(runtime: runtime, id: id, owner: runtime.workspaceOwner(authorization: authorization),
                                                 servesModern: false) { message in
            stream.send(message)
        }
        let keepAlive = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.keepAliveInterval)
                stream.keepAlive()
            }
        }
        entries[id] = Entry(connection: connection, stream: stream, keepAlive: keepAlive)
        stream.onClientGone { [weak self] in
            Task { await self?.close(id: id) }
        }
        let watch = ConnectionWatch { [weak self] in Task { await self?.close(id: id) } }
        let source = IteratorBox(stream.events.makeAsyncIterator())
        return AsyncThrowingStream<Data, Error>(unfolding: { [watch] in
            withExtendedLifetime(watch) {}
            return await source.next()
        })
    }

    /// Routes a POSTed message; false when no such session is open.
    func deliver(_ message: JSONRPCMessage, to id: String) async -> Bool {
        guard let entry = entries[id] else { return false }
        await entry.connection.receive(message)
        return true
    }

    func close(id: String) async {
        guard let entry = entries.removeValue(forKey: id) else { return }
        entry.keepAlive.cancel()
        entry.stream.finish()
        await entry.connection.close()
    }

    func closeAll() async {
        for id in entries.keys { await close(id: id) }
    }
}

/// One SSE body's iterator: the HTTP server reads it from one task at a time.
private final class IteratorBox: @unchecked Sendable {
    private var iterator: AsyncStream<Data>.AsyncIterator
    init(_ iterator: AsyncStream<Data>.AsyncIterator) { self.iterator = iterator }
    func next() async -> Data? { await iterator.next() }
}
