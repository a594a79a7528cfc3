import Foundation
import RLMCommon
import Synchronization
import Testing
@testable import Sandboxes

/// Workers that answer like the real one over an in-memory transport: `block` never finishes, anything else does.
private final class ScriptedWorker: WorkerTransport {
    private let frames: AsyncStream<WorkerFrame>.Continuation
    private let killed = Mutex(false)

    static func start() async throws -> WorkerChannel {
        let (stream, continuation) = AsyncStream<WorkerFrame>.makeStream()
        let worker = ScriptedWorker(frames: continuation)
        continuation.yield(.ready)
        return try await WorkerChannel.start(transport: worker, frames: stream, readyTimeout: .seconds(5), hint: "test")
    }

    private init(frames: AsyncStream<WorkerFrame>.Continuation) { self.frames = frames }

    func send(_ line: Data) {
        guard case let .object(frame)? = JSONValue.parse(line), frame["op"] == .string("exec"), frame["code"] != .string("block"),
              case let .string(id)? = frame["id"] else { return }
        frames.yield(.result(id: id, ExecResult(stdout: "ok", stderr: "", error: nil, submitted: nil, truncated: false, durationMS: 0)))
    }

    func kill() {
        guard killed.withLock({ wasKilled in defer { wasKilled = true }; return !wasKilled }) else { return }
        frames.yield(.exited(WorkerExit(.stoppedByHost, "killed")))
        frames.finish()
    }
}

@Suite struct WorkerQuotaTests {
    private func run(_ pool: WorkerPool, _ code: String, in name: String) async throws -> ExecResult {
        try await pool.execute(ExecRequest(code: code, namespace: .named(name), timeout: .seconds(30), maxOutputChars: 100))
    }

    @Test func theLeastRecentlyUsedIdleNamespaceMakesRoomAcrossPools() async throws {
        let quota = WorkerQuota(capacity: 3)
        let first = WorkerPool(start: { try await ScriptedWorker.start() }, quota: quota)
        let second = WorkerPool(start: { try await ScriptedWorker.start() }, quota: quota)
        _ = try await run(first, "x", in: "a")
        _ = try await run(first, "x", in: "b")
        _ = try await run(second, "x", in: "c")
        _ = try await run(second, "x", in: "d")
        #expect(quota.live <= 3)
        // "a" was used longest ago: it made room, in the other pool.
        #expect(await first.namespaces == ["b"])
        #expect(await second.namespaces == ["c", "d"])
    }

    @Test func aPoolForOneRunStartsNoSpare() async throws {
        let starts = Mutex(0)
        let start: WorkerPool.Start = { starts.withLock { $0 += 1 }; return try await ScriptedWorker.start() }
        let oneRun = WorkerPool(start: start, keepsSpare: false)
        _ = try await run(oneRun, "x", in: "rlm:run_1")
        #expect(await oneRun.workerCount == 1)
        #expect(starts.withLock { $0 } == 1)
        await oneRun.shutdown()

        let server = WorkerPool(start: { try await ScriptedWorker.start() })
        _ = try await run(server, "x", in: "a")
        #expect(await server.workerCount == 2)  // the named worker and the spare started after the hand-over
        await server.shutdown()
    }

    @Test func aPoolKeepsAtMostItsNamedWorkers() async throws {
        let pool = WorkerPool(start: { try await ScriptedWorker.start() }, maxNamed: 2)
        for name in ["a", "b", "c", "d"] { _ = try await run(pool, "x", in: name) }
        #expect(await pool.namespaces == ["c", "d"])
    }

    @Test func whenEveryWorkerIsBusyANewOneIsRefusedClearly() async throws {
        let quota = WorkerQuota(capacity: 2)
        let pool = WorkerPool(start: { try await ScriptedWorker.start() }, quota: quota)
        let busy = [Task { try await run(pool, "block", in: "a") }, Task { try await run(pool, "block", in: "b") }]
        // Wait (bounded) until both blocking calls hold their workers.
        for _ in 0..<200 where await pool.namespaces.count < 2 { try await Task.sleep(for: .milliseconds(10)) }
        await #expect(throws: SandboxError.workerFailed("all 2 workers this server allows are busy (RLM_MAX_WORKERS); try again when a call finishes")) {
            _ = try await run(pool, "x", in: "c")
        }
        busy.forEach { $0.cancel() }
        await pool.shutdown()
    }

    @Test func runNamespacesAreNeverEvicted() async throws {
        let quota = WorkerQuota(capacity: 2)
        let pool = WorkerPool(start: { try await ScriptedWorker.start() }, quota: quota)
        _ = try await run(pool, "x", in: "rlm:run_1")
        _ = try await run(pool, "x", in: "rlm:run_2")
        await #expect(throws: SandboxError.self) { _ = try await run(pool, "x", in: "user") }
        #expect(await pool.namespaces == ["rlm:run_1", "rlm:run_2"])
    }
}
