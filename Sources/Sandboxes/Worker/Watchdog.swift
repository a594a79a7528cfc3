import Dispatch
import Synchronization

/// A one-shot deadline for one operation (an execution, a worker's start) that costs nothing once cancelled.
///
/// Why not `Task { try await Task.sleep(for:); … }` cancelled on completion: a cancelled `Task.sleep` wakes at once,
/// but its task and timer stay queued in the executor until the deadline passes. One watchdog per execution with a
/// 5-minute timeout then holds ~0.8 KB per call for five minutes: a busy session's memory grows with its calls. A
/// cancelled dispatch timer is unregistered and freed right away.
package final class Watchdog: @unchecked Sendable {  // DispatchSourceTimer is thread-safe but not marked Sendable
    /// Timers still holding their handler (armed, or cancelled and not yet freed): a count tests read to prove that
    /// finished operations leave nothing behind.
    package static let held = Atomic<Int>(0)

    private let timer: any DispatchSourceTimer

    /// Arms a timer that calls `fire` after `delay` unless `cancel()` comes first.
    package init(after delay: Duration, _ fire: @escaping @Sendable () -> Void) {
        timer = DispatchSource.makeTimerSource(queue: .global())
        let hold = Hold()
        timer.schedule(deadline: Self.deadline(after: delay))
        timer.setEventHandler { withExtendedLifetime(hold) { fire() } }
        timer.resume()
    }

    /// Disarms the timer; idempotent. Its handler (and what that captured) is released now, not at the deadline.
    package func cancel() {
        timer.setEventHandler(handler: nil)
        timer.cancel()
    }

    deinit { cancel() }

    private static func deadline(after delay: Duration) -> DispatchTime {
        let (seconds, attoseconds) = delay.components
        guard seconds >= 0 else { return .now() }
        guard seconds < Int64(Int.max / 1_000_000_000) - 1 else { return .distantFuture }
        return .now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }

    /// Lives exactly as long as the timer's handler: counts it in `held`.
    private final class Hold: Sendable {
        init() { Watchdog.held.add(1, ordering: .relaxed) }
        deinit { Watchdog.held.subtract(1, ordering: .relaxed) }
    }
}
