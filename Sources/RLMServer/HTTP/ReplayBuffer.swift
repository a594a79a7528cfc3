import Foundation

/// How much of one SSE stream a session keeps for clients that reconnect with `Last-Event-ID`.
public struct ReplayLimits: Sendable, Equatable {
    /// Events kept per stream; older ones are dropped first.
    public var events: Int
    /// Bytes kept per stream (event payloads); older events are dropped first.
    public var bytes: Int
    /// Finished-but-undelivered request streams a session keeps for resumption; the oldest is dropped first.
    public var streams: Int

    public init(events: Int, bytes: Int, streams: Int) {
        self.events = events
        self.bytes = bytes
        self.streams = streams
    }

    /// 64 events and 1 MiB per stream, 16 resumable streams per session: a reconnect after a network blip gets what it
    /// missed, and a session's memory stays below ~17 MB however many calls it makes.
    public static let standard = ReplayLimits(events: 64, bytes: 1 << 20, streams: 16)
}

/// The most recent events of one SSE stream, capped by count and size: what a reconnecting client can be given again.
struct ReplayBuffer {
    private(set) var events: [(sequence: Int, frame: Data)] = []
    private(set) var byteCount = 0
    let limits: ReplayLimits

    init(limits: ReplayLimits) { self.limits = limits }

    mutating func append(sequence: Int, frame: Data) {
        events.append((sequence, frame))
        byteCount += frame.count
        while !events.isEmpty && (events.count > limits.events || byteCount > limits.bytes) {
            byteCount -= events.removeFirst().frame.count
        }
    }

    /// The frames after `sequence`, oldest first (only those still kept).
    func frames(after sequence: Int) -> [Data] {
        events.filter { $0.sequence > sequence }.map(\.frame)
    }
}
