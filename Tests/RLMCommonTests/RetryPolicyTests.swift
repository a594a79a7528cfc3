import Foundation
import Testing
@testable import RLMCommon

/// The retry policy and loop the model clients and the Daytona client share.
@Suite struct RetryPolicyTests {
    @Test func retryableStatuses() {
        #expect([408, 429, 500, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable(status:)))
        #expect(![200, 400, 401, 403, 404, 422].contains(where: RetryPolicy.isRetryable(status:)))
    }

    @Test func retryAfterSecondsAndDatesAreParsed() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryPolicy.parseRetryAfter("3", now: now) == .seconds(3))
        #expect(RetryPolicy.parseRetryAfter("Tue, 14 Nov 2023 22:13:25 GMT", now: now) == .seconds(5))
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
        #expect(RetryPolicy().delay(afterAttempt: 1, retryAfter: "120") == .seconds(30), "capped at maxDelay")
    }

    @Test func backoffGrowsWithJitterWithinTheCap() {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for attempt in 1...6 {
            let ceiling = min(Duration.milliseconds(100) * (1 << (attempt - 1)), .seconds(1))
            for _ in 0..<50 { #expect(policy.delay(afterAttempt: attempt, retryAfter: nil) <= ceiling) }
        }
    }
}

/// The shared loop: what it retries, when it stops, what it reports.
@Suite struct RetryLoopTests {
    private struct Refused: Error, Equatable {}
    private let quick = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2))

    @Test func retriesUntilAnAttemptFinishes() async throws {
        var calls: [Int] = []
        var waits: [Int] = []
        let outcome = try await quick.run({ (attempt: Int) async throws(Refused) -> RetryPolicy.Attempt<String> in
            calls.append(attempt)
            return attempt < 3 ? .failed(problem: "HTTP 503", retryable: true) : .finished("ok")
        }, willRetry: { attempt, _, _ in waits.append(attempt) }, cancelled: { Refused() })
        #expect(try outcome.get() == "ok")
        #expect(calls == [1, 2, 3] && waits == [1, 2])
    }

    @Test func givesUpAfterMaxAttemptsWithTheLastProblem() async throws {
        var calls = 0
        let outcome = try await quick.run({ (attempt: Int) async throws(Refused) -> RetryPolicy.Attempt<String> in
            calls += 1
            return .failed(problem: "HTTP 500 on attempt \(attempt)", retryable: true)
        }, willRetry: { _, _, _ in }, cancelled: { Refused() })
        guard case let .failure(gaveUp) = outcome else { Issue.record("expected to give up"); return }
        #expect(calls == 3 && gaveUp.attempts == 3 && gaveUp.lastProblem == "HTTP 500 on attempt 3")
    }

    @Test func aFailureThatIsNotRetryableStopsAtOnce() async throws {
        var calls = 0
        let outcome = try await quick.run({ (_: Int) async throws(Refused) -> RetryPolicy.Attempt<String> in
            calls += 1
            return .failed(problem: "HTTP 400", retryable: false)
        }, willRetry: { _, _, _ in Issue.record("must not wait") }, cancelled: { Refused() })
        guard case let .failure(gaveUp) = outcome else { Issue.record("expected to give up"); return }
        #expect(calls == 1 && gaveUp.attempts == 1)
    }

    @Test func cancellingTheWaitThrowsTheCallersCancellation() async throws {
        let slow = RetryPolicy(maxAttempts: 3, baseDelay: .seconds(60), maxDelay: .seconds(60), jitterFloor: 1)
        let task = Task { () async throws(Refused) -> Result<String, RetryPolicy.GaveUp> in
            try await slow.run({ (_: Int) async throws(Refused) -> RetryPolicy.Attempt<String> in
                .failed(problem: "HTTP 503", retryable: true)
            }, willRetry: { _, _, _ in }, cancelled: { Refused() })
        }
        task.cancel()
        await #expect(throws: Refused.self) { try await task.value }
    }

    @Test func theJitterFloorKeepsWaitsAboveItsShareOfTheCeiling() {
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(200), maxDelay: .seconds(5), jitterFloor: 0.5)
        for _ in 0..<50 {
            let wait = policy.delay(afterAttempt: 2, retryAfter: nil)
            #expect(wait >= .milliseconds(200) && wait <= .milliseconds(400))
        }
    }
}
