import Foundation
import RLMCommon
import Synchronization
import Testing
@testable import Sandboxes

/// A worker that answers every execution at once, over an in-memory transport.
private final class EchoWorker: WorkerTransport {
    private let frames: AsyncStream<WorkerFrame>.Continuation

    static func start() async throws -> WorkerChannel {
        let (stream, continuation) = AsyncStream<WorkerFrame>.makeStream()
        continuation.yield(.ready)
        return try await WorkerChannel.start(transport: EchoWorker(frames: continuation), frames: stream, readyTimeout: .seconds(3600), hint: "test")
    }

    private init(frames: AsyncStream<WorkerFrame>.Continuation) { self.frames = frames }

    func send(_ line: Data) {
        guard case let .object(frame)? = JSONValue.parse(line), case let .string(id)? = frame["id"] else { return }
        frames.yield(.result(id: id, ExecResult(stdout: "1\n", stderr: "", error: nil, submitted: nil, truncated: false, durationMS: 0)))
    }

    func kill() { frames.finish() }
}

/// Lets a test see when what a closure captured is freed.
private final class Sentinel: Sendable {
    let freed: @Sendable () -> Void
    init(freed: @escaping @Sendable () -> Void) { self.freed = freed }
    deinit { freed() }
}

@Suite struct WatchdogTests {
    /// Polls (bounded) until the timers of finished executions are freed: their release happens on dispatch's queue.
    private func heldSettles(below limit: Int) async throws -> Int {
        for _ in 0..<500 where Watchdog.held.load(ordering: .relaxed) >= limit { try await Task.sleep(for: .milliseconds(10)) }
        return Watchdog.held.load(ordering: .relaxed)
    }

    @Test func finishedExecutionsLeaveNoTimerBehind() async throws {
        let channel = try await EchoWorker.start()
        // A long timeout, as in a real session: a timer kept until its deadline would still be held at the end.
        for _ in 0..<1_000 {
            _ = try await channel.execute(code: "print(1)", variables: nil, maxOutputChars: 100, timeout: .seconds(3600), onSubCall: SubCall.unavailable)
        }
        // Other tests running in parallel may hold a few; 1,000 calls must not leave 1,000.
        #expect(try await heldSettles(below: 20) < 20)
        await channel.terminate()
    }

    @Test func finishedShellCommandsLeaveNoTimerBehind() async throws {
        let cwd = FileManager.default.temporaryDirectory.path
        for _ in 0..<200 {
            let result = try await ShellRunner.run(["/bin/sh", "-c", "true"], environment: [:], cwd: cwd, timeout: .seconds(3600))
            #expect(result.exitCode == 0 && !result.timedOut)
        }
        #expect(try await heldSettles(below: 20) < 20)
    }

    @Test(.timeLimit(.minutes(1))) func aCancelledWatchdogFreesWhatItCapturedBeforeItsDeadline() async {
        await withCheckedContinuation { (freed: CheckedContinuation<Void, Never>) in
            let sentinel = Sentinel { freed.resume() }
            let watchdog = Watchdog(after: .seconds(3600)) { withExtendedLifetime(sentinel) {} }
            watchdog.cancel()
        }
    }

    @Test func anUncancelledWatchdogFires() async {
        await withCheckedContinuation { (fired: CheckedContinuation<Void, Never>) in
            let watchdog = Watchdog(after: .milliseconds(1)) { fired.resume() }
            _ = Unmanaged.passRetained(watchdog)  // kept armed: only firing ends this test
        }
    }
}
