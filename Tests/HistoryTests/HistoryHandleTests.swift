import Foundation
@testable import History
import Logging
import RLMEngine
import Synchronization
import Testing

/// The history opening in the background: nothing waits for it but what needs the store, runs recorded before it
/// opened are written once it has, and an open that fails is reported and refused at once instead of waited on.
@Suite(.timeLimit(.minutes(1))) struct HistoryHandleTests {
    let models = RunModels(root: "openai/gpt-4o", sub: "openai/gpt-4o-mini")

    func start(_ id: String) -> RunStart {
        RunStart(runID: id, origin: RunOrigin(), task: "task of \(id)", models: models, limits: .init(), context: .none, startedAt: Date())
    }

    func step(_ iteration: Int) -> Step {
        Step(iteration: iteration, reply: "reply \(iteration)", model: "openai/gpt-4o", inputTokens: 1, outputTokens: 1, latencyMS: 1,
             blocks: [], feedback: nil, durationMS: 1)
    }

    @Test func runsRecordedWhileTheStoreOpensAreWrittenOnceItHas() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let gate = OpenGate()
        let handle = HistoryHandle(backend: .sqlite) { () async throws(HistoryError) -> any RunStore in
            await gate.wait()
            return try RunHistory(settings: HistorySettings(directory: folder.path))
        }
        let recorder = HistoryRecorder(handle: handle)
        // The open is held: recording returns at once and the state says so without waiting.
        recorder.record(.started(start("run_early")))
        recorder.record(.step(runID: "run_early", step(1)))
        #expect(handle.state == .opening)
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/history.sqlite"))
        // A request does not wait for the open without end: past its patience it is told to retry.
        await #expect(throws: HistoryError.stillOpening(backend: "sqlite", waited: .milliseconds(20))) {
            try await handle.store(waitingAtMost: .milliseconds(20))
        }
        await gate.open()
        await recorder.flush()
        #expect(handle.state == .open)
        let run = try await handle.store(waitingAtMost: .seconds(30)).detail("run_early")
        #expect(run.summary.status == "running" && run.steps.count == 1)
        await recorder.close()
        await handle.shutdown()
    }

    @Test func anOpenThatFailsIsReportedOnceAndRefusedAtOnce() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = folder.path + "/not-a-folder"
        _ = FileManager.default.createFile(atPath: file, contents: Data())
        let heard = FailureLog()
        let handle = HistoryHandle(settings: HistorySettings(directory: file + "/history"), logger: Logger(label: "test")) { error in
            heard.add(error)
        }
        let recorder = HistoryRecorder(handle: handle)
        recorder.record(.started(start("run_lost")))
        // Waiting for the writer must not hang: the events are dropped once the open has failed.
        await recorder.flush()
        await #expect(throws: HistoryError.self) { try await handle.store() }
        guard case let .failed(error) = handle.state else {
            Issue.record("expected a failed open, got \(handle.state)")
            return
        }
        #expect(heard.errors == [error])
        #expect(handle.state.name == "failed")
        let problem = try #require(handle.state.problem)
        #expect(problem.contains("RLM_DATA_DIR") && problem.contains("RLM_HISTORY=off"))
        // A second caller gets the same error, not a second attempt.
        await #expect(throws: error) { try await handle.store() }
        await recorder.close()
    }

    @Test func progressReadsOnlyTheStepsAfterTheLowerBound() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try RunHistory(settings: HistorySettings(directory: folder.path))
        _ = await history.write([.started(start("run_live"))] + (1...3).map { .step(runID: "run_live", step($0)) })
        let all = try history.progress("run_live", afterStep: 0)
        #expect(all.steps.map(\.iteration) == [1, 2, 3] && all.summary.status == "running")
        #expect(try history.progress("run_live", afterStep: 1).steps.map(\.reply) == ["reply 2", "reply 3"])
        #expect(try history.progress("run_live", afterStep: 3).steps.isEmpty)
        #expect(throws: HistoryError.runNotFound("run_missing")) { try history.progress("run_missing", afterStep: 0) }
        await history.shutdown()
    }
}

/// Holds a store's open until the test lets it go.
actor OpenGate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        guard !isOpen else { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

/// The open failures a handle reported.
final class FailureLog: Sendable {
    private let heard = Mutex<[HistoryError]>([])

    func add(_ error: HistoryError) {
        heard.withLock { $0.append(error) }
    }

    var errors: [HistoryError] { heard.withLock { $0 } }
}
