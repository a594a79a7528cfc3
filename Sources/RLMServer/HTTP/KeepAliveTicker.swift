import NIOCore
import Synchronization

/// One timer for every open 2026-07-28 call stream: each gets an SSE comment every `interval`, so that a client that went
/// away is noticed at the next write (and its call cancelled) without a timer task per call. The timer task runs only
/// while some stream is registered: a quick call that finishes before the first tick costs a lock and no task.
final class KeepAliveTicker: Sendable {
    private struct State {
        var streams: [Int: AsyncStream<ByteBuffer>.Continuation] = [:]
        var nextID = 0
        var ticking = false
    }

    let interval: Duration
    private let state = Mutex(State())

    init(interval: Duration) { self.interval = interval }

    /// Registers `stream` for comments until `unregister` (call it when the stream ends).
    func register(_ stream: AsyncStream<ByteBuffer>.Continuation) -> Int {
        let (id, start) = state.withLock { state in
            state.nextID += 1
            state.streams[state.nextID] = stream
            defer { state.ticking = true }
            return (state.nextID, !state.ticking)
        }
        if start { Task { await self.tick() } }
        return id
    }

    func unregister(_ id: Int) {
        _ = state.withLock { $0.streams.removeValue(forKey: id) }
    }

    var registered: Int { state.withLock { $0.streams.count } }

    private func tick() async {
        while true {
            try? await Task.sleep(for: interval)
            let streams = state.withLock { state -> [AsyncStream<ByteBuffer>.Continuation]? in
                guard !state.streams.isEmpty else {
                    state.ticking = false
                    return nil
                }
                return Array(state.streams.values)
            }
            guard let streams else { return }
            for stream in streams { stream.yield(ByteBuffer(string: ":\n\n")) }
        }
    }
}
