import Synchronization

/// How the open ended, once it has, and the requests waiting for it with a deadline.
final class OpenOutcome: Sendable {
    typealias Outcome = Result<any RunStore, HistoryError>

    private struct Waiter {
        let continuation: CheckedContinuation<Outcome, Never>
        /// Its deadline, cancelled when the open ends first (so no task sleeps out a deadline nobody waits for).
        var deadline: Task<Void, Never>?
    }

    private struct Waiting {
        var result: Outcome?
        var waiters: [Int: Waiter] = [:]
        var nextID = 0
    }

    private enum Registration {
        case settled(Outcome)
        case waiting(Int)
    }

    private let waiting = Mutex(Waiting())

    var state: HistoryHandle.State {
        switch waiting.withLock({ $0.result }) {
        case nil: .opening
        case .success: .open
        case let .failure(error): .failed(error)
        }
    }

    func settle(_ result: Outcome) {
        let waiters = waiting.withLock { waiting in
            waiting.result = result
            defer { waiting.waiters = [:] }
            return Array(waiting.waiters.values)
        }
        for waiter in waiters {
            waiter.deadline?.cancel()
            waiter.continuation.resume(returning: result)
        }
    }

    /// The outcome, or `timedOut()` when the open has not ended within `limit`.
    func wait(atMost limit: Duration, timedOut: @escaping @Sendable () -> HistoryError) async -> Outcome {
        await withCheckedContinuation { continuation in
            let registration: Registration = waiting.withLock { waiting in
                if let result = waiting.result { return .settled(result) }
                let id = waiting.nextID
                waiting.nextID += 1
                waiting.waiters[id] = Waiter(continuation: continuation)
                return .waiting(id)
            }
            guard case let .waiting(id) = registration else {
                if case let .settled(result) = registration { continuation.resume(returning: result) }
                return
            }
            let deadline = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }
                // Whichever comes first, the open's end or this deadline, takes the waiter; the other finds it gone.
                if let waiter = waiting.withLock({ $0.waiters.removeValue(forKey: id) }) {
                    waiter.continuation.resume(returning: .failure(timedOut()))
                }
            }
            let settled = waiting.withLock { waiting in
                guard waiting.waiters[id] != nil else { return true }
                waiting.waiters[id]?.deadline = deadline
                return false
            }
            if settled { deadline.cancel() }
        }
    }
}
