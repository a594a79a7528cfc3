import Foundation

/// When and how often to try an HTTP call again (exponential backoff with jitter, or the server's `Retry-After`), and
/// the one loop that does it, shared by the model clients and the Daytona client.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// The least share of the backoff ceiling a wait takes: 0 is full jitter, 0.5 waits at least half the ceiling.
    public var jitterFloor: Double

    public init(maxAttempts: Int = 4, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(30), jitterFloor: Double = 0) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitterFloor = min(max(jitterFloor, 0), 1)
    }

    /// 408, 429 and every 5xx are worth another try; other 4xx answers will not change.
    public static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }

    /// The wait before attempt `attempt + 1` (attempts count from 1): the server's `Retry-After` when it sends one,
    /// else a jittered exponential backoff; never more than `maxDelay`.
    public func delay(afterAttempt attempt: Int, retryAfter: String?, now: Date = Date()) -> Duration {
        if let retryAfter, let server = Self.parseRetryAfter(retryAfter, now: now) {
            return min(server, maxDelay)
        }
        let ceiling = min(baseDelay * (1 << min(attempt - 1, 20)), maxDelay)
        return .milliseconds(Int(Double.random(in: jitterFloor...1) * ceiling.milliseconds))
    }

    /// `Retry-After` is either delta-seconds or an HTTP date.
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return .milliseconds(Int(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .milliseconds(max(0, Int(date.timeIntervalSince(now) * 1000)))
    }

    /// What one attempt came to: a result to return, or a failure that may be worth another attempt.
    public enum Attempt<Value> {
        case finished(Value)
        /// `problem` is what the log and the final error say (already free of secrets).
        case failed(problem: String, retryAfter: String? = nil, retryable: Bool)
    }

    /// Calls `attempt` (with its number, from 1) until it finishes, fails for good or `maxAttempts` are spent, waiting
    /// `delay(afterAttempt:)` in between and telling `willRetry` first. Returns the finished value, or the last
    /// failure's problem for the caller to turn into its own error. A cancelled wait throws `cancelled()`.
    public func run<Value, Failure: Error>(
        _ attempt: (Int) async throws(Failure) -> Attempt<Value>,
        willRetry: (_ attempt: Int, _ wait: Duration, _ problem: String) -> Void,
        cancelled: () -> Failure
    ) async throws(Failure) -> Result<Value, GaveUp> {
        let attempts = max(1, maxAttempts)
        var number = 1
        while true {
            switch try await attempt(number) {
            case let .finished(value):
                return .success(value)
            case let .failed(problem, retryAfter, retryable):
                guard retryable, number < attempts else { return .failure(GaveUp(attempts: number, lastProblem: problem)) }
                let wait = delay(afterAttempt: number, retryAfter: retryAfter)
                willRetry(number, wait, problem)
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    throw cancelled()
                }
                number += 1
            }
        }
    }

    /// The last failure of a call that will not be tried again.
    public struct GaveUp: Error, Sendable {
        public let attempts: Int
        public let lastProblem: String
    }
}
