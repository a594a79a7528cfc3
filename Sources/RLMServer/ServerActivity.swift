/// Counters of what the server has done since it started, shown by `rlm_status`.
public actor ServerActivity {
    public enum Outcome: Sendable { case succeeded, failed, cancelled }

    public struct Snapshot: Sendable, Equatable {
        public var calls_in_flight = 0
        public var calls_succeeded = 0
        public var calls_failed = 0
        public var calls_cancelled = 0
        public var calls_rejected = 0
        public var sessions_open = 0
        public var sessions_total = 0
        public var runs_in_flight = 0
        public var runs_total = 0
    }

    private var counts = Snapshot()

    public init() {}

    public var snapshot: Snapshot { counts }

    func callStarted() { counts.calls_in_flight += 1 }

    func callFinished(_ outcome: Outcome) {
        counts.calls_in_flight -= 1
        switch outcome {
        case .succeeded: counts.calls_succeeded += 1
        case .failed: counts.calls_failed += 1
        case .cancelled: counts.calls_cancelled += 1
        }
    }

    /// A call refused before its handler ran (schema violation).
    func recordRejected() { counts.calls_rejected += 1 }

    public func sessionOpened() {
        counts.sessions_open += 1
        counts.sessions_total += 1
    }

    public func sessionClosed() { counts.sessions_open -= 1 }

    /// An RLM run (any rlm_* tool) started or ended.
    func runStarted() {
        counts.runs_in_flight += 1
        counts.runs_total += 1
    }

    func runEnded() { counts.runs_in_flight -= 1 }
}
