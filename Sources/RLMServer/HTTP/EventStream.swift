import Foundation

/// One SSE stream of a streamable-HTTP session (a request's response stream or the GET stream): numbered events, the
/// connection currently reading them (if any), and the bounded buffer a reconnecting client is replayed from.
struct EventStream {
    enum Kind { case request, standalone }

    let index: Int
    let kind: Kind
    private(set) var buffer: ReplayBuffer
    private var connection: AsyncThrowingStream<Data, Error>.Continuation?
    /// Counts connections, so that a late "went away" from an old one cannot detach its successor.
    private(set) var connectionNumber = 0
    private var sequence = 0
    /// A request stream whose response has been emitted: nothing more will be added.
    private(set) var isFinished = false

    init(index: Int, kind: Kind, limits: ReplayLimits) {
        self.index = index
        self.kind = kind
        buffer = ReplayBuffer(limits: limits)
    }

    var isConnected: Bool { connection != nil }

    /// Event ids are `<stream>-<sequence>`, so a `Last-Event-ID` names both the stream and the position in it.
    static func parse(eventID: String) -> (index: Int, sequence: Int)? {
        let parts = eventID.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let sequence = Int(parts[1]), index > 0, sequence >= 0 else { return nil }
        return (index, sequence)
    }

    mutating func emit(_ message: Data) {
        sequence += 1
        let frame = SSE.event(message, id: "\(index)-\(sequence)")
        buffer.append(sequence: sequence, frame: frame)
        connection?.yield(frame)
    }

    /// Attaches a new connection: a priming event (an id with no data, so the client can resume even before the first
    /// message), then the kept events after `after`; closes it at once when the stream is already finished.
    /// Clients older than 2025-03-26 may not expect an event without data, so they get no priming event.
    @discardableResult
    mutating func connect(_ continuation: AsyncThrowingStream<Data, Error>.Continuation, after: Int, priming: Bool) -> Int {
        connection?.finish()
        connectionNumber += 1
        if priming { continuation.yield(Data("id: \(index)-\(after)\ndata: \n\n".utf8)) }
        for frame in buffer.frames(after: after) { continuation.yield(frame) }
        if isFinished {
            continuation.finish()
        } else {
            connection = continuation
        }
        return connectionNumber
    }

    mutating func disconnect(_ number: Int) {
        guard number == connectionNumber else { return }
        connection = nil
    }

    mutating func finish() {
        isFinished = true
        connection?.finish()
    }
}
