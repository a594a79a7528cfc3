import Foundation
import GRDB
import RLMEngine

/// The engine's `RunRecorder` for the run history: `record` only appends to a queue; one background task writes
/// whatever has queued up in a single transaction, so a run never waits for the disk and a crash loses at most the
/// events not yet written (the step in flight). The writer waits for the store to open, so runs started before it
/// has are recorded once it is; when the open fails, queued events are dropped (the handle reported why).
public final class HistoryRecorder: RunRecorder, Sendable {
    public let handle: HistoryHandle
    private let queue: EventQueue
    private let wake: AsyncStream<Void>.Continuation
    private let writer: Task<Void, Never>

    /// `onError` hears a write that failed (worded for a log); the run goes on without it.
    public init(handle: HistoryHandle, onError: @escaping @Sendable (String) -> Void = { _ in }) {
        self.handle = handle
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wake = wake
        let queue = EventQueue()
        self.queue = queue
        writer = Task.detached {
            let history = await handle.storeIfOpened()
            for await _ in signals {
                let batch = queue.take()
                if let history, !batch.events.isEmpty {
                    for problem in await history.write(batch.events) { onError("run history: \(problem)") }
                }
                for waiter in batch.waiters { waiter.resume() }
            }
        }
    }

    /// A recorder over a store that is open already.
    public convenience init(history: any RunStore, onError: @escaping @Sendable (String) -> Void = { _ in }) {
        self.init(handle: HistoryHandle(opened: history), onError: onError)
    }

    public func record(_ event: RunEvent) {
        queue.push(event)
        wake.yield()
    }

    /// Returns once every event recorded before the call is written.
    public func flush() async {
        await withCheckedContinuation { waiter in
            queue.addWaiter(waiter)
            wake.yield()
        }
    }

    /// Writes what is queued and stops the writer.
    public func close() async {
        await flush()
        wake.finish()
        await writer.value
    }
}

/// The events waiting to be written, and the callers waiting for them to be.
private final class EventQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [RunEvent] = []
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func push(_ event: RunEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
    }

    func addWaiter(_ waiter: CheckedContinuation<Void, Never>) {
        lock.lock()
        waiters.append(waiter)
        lock.unlock()
    }

    /// What one write takes: the events queued so far and the callers to wake once they are written.
    struct Batch {
        let events: [RunEvent]
        let waiters: [CheckedContinuation<Void, Never>]
    }

    func take() -> Batch {
        lock.lock()
        defer { events = []; waiters = []; lock.unlock() }
        return Batch(events: events, waiters: waiters)
    }
}
