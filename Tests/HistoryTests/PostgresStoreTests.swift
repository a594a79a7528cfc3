import Foundation
@testable import History
import PostgresNIO
import RLMCommon
import RLMConfig
import RLMEngine
import Testing

/// The PostgreSQL store against a real server (a throwaway cluster): what SQLite does, plus sharing between replicas.
@Suite(.enabled(if: PostgresCluster.runnable, "\(PostgresCluster.unavailableReason ?? "")"), .serialized)
struct PostgresStoreTests {
    let models = RunModels(root: "openai/gpt-4o", sub: "openai/gpt-4o-mini")

    func open(_ url: Secret, now: Date = Date()) async throws -> PostgresRunStore {
        try await PostgresRunStore.open(settings: HistorySettings(directory: "/nonexistent", databaseURL: url), now: now)
    }

    @Test func anEngineRunIsRecordedAndReadBackWithStepsAndSubCalls() async throws {
        let url = try PostgresCluster.freshDatabase()
        let store = try await open(url)
        let recorder = HistoryRecorder(history: store)
        let model = ScriptedModel([
            "Let me look.\n```python\nprint(llm_query('summarise'))\n```", "sub answer", "```python\nSUBMIT(answer='forty-two')\n```",
        ])
        let engine = RLMEngine(rootModel: model, subModel: model, recorder: recorder)
        let sandbox = StubSandbox([.output("ASK:summarise the first chunk"), .output("", submitted: #"{"answer": "forty-two"}"#)])
        let request = RunRequest(task: "what is 100% of the answer?", context: .text("ctx"), models: models, limits: .init(),
                                 origin: RunOrigin(tool: "rlm_execute", workspace: "ws#abc"))
        let result = try await engine.run(request, sandbox: { sandbox })
        await recorder.flush()

        let run = try await store.detail(result.runID)
        #expect(run.summary.status == "submitted")
        #expect(run.workspace == "ws#abc")
        #expect(run.answer == .string("forty-two"))
        #expect(run.steps.map(\.iteration) == [1, 2])
        #expect(run.steps[0].blocks.first?.subCalls.first?.promptPreview == "summarise the first chunk")
        #expect((run.summary.costUSD ?? 0) > 0)
        #expect(run.usage == result.usage)
        // Filters: tool, status, a literal search (the % is not a wildcard), visibility by workspace.
        #expect(try await store.list(RunFilter(tool: "rlm_execute")).map(\.runID) == [result.runID])
        #expect(try await store.list(RunFilter(tool: "rlm_query")).isEmpty)
        #expect(try await store.list(RunFilter(status: "error")).isEmpty)
        #expect(try await store.list(RunFilter(search: "100%")).count == 1)
        #expect(try await store.list(RunFilter(search: "1000%")).isEmpty)
        #expect(try await store.recentRuns(visibleTo: RunVisibility(workspaces: ["ws#abc"])).count == 1)
        #expect(try await store.recentRuns(visibleTo: RunVisibility(workspaces: ["ws#other"])).isEmpty)
        #expect(try await store.recentRuns(visibleTo: RunVisibility()).isEmpty)
        #expect(try await store.delete(result.runID))
        await #expect(throws: HistoryError.runNotFound(result.runID)) { try await store.detail(result.runID) }
        await recorder.close()
        await store.shutdown()
    }

    @Test func twoReplicasSeeEachOthersRuns() async throws {
        let url = try PostgresCluster.freshDatabase()
        let first = try await open(url), second = try await open(url)
        #expect(await first.write([.started(start("run_on_a"))]).isEmpty)
        #expect(await second.write([.started(start("run_on_b")), .step(runID: "run_on_b", step(1))]).isEmpty)
        #expect(Set(try await first.list(RunFilter()).map(\.runID)) == ["run_on_a", "run_on_b"])
        #expect(try await first.detail("run_on_b").steps.count == 1)
        #expect(try await second.detail("run_on_a").summary.status == "running")
        await first.shutdown()
        await second.shutdown()
    }

    @Test func onlyRunsOfAProcessThatIsGoneAreMarkedInterrupted() async throws {
        let url = try PostgresCluster.freshDatabase()
        let store = try await open(url)
        _ = await store.write([.started(start("run_dead_here")), .started(start("run_live_here")),
                               .started(start("run_live_peer")), .started(start("run_dead_peer"))])
        let now = Date().timeIntervalSince1970
        try await store.client.query("UPDATE runs SET pid = 999999999 WHERE id = 'run_dead_here'")
        try await store.client.query("UPDATE runs SET host = 'peer-live', pid = 7 WHERE id = 'run_live_peer'")
        try await store.client.query("UPDATE runs SET host = 'peer-dead', pid = 8 WHERE id = 'run_dead_peer'")
        try await store.client.query("INSERT INTO replicas (host, pid, seen_at) VALUES ('peer-live', 7, \(now)), ('peer-dead', 8, \(now - 600))")
        let reopened = try await open(url)
        #expect(try await reopened.detail("run_dead_here").summary.status == "interrupted")
        #expect(try await reopened.detail("run_dead_peer").summary.status == "interrupted")
        // This process is alive, and the peer beat a moment ago: their runs go on.
        #expect(try await reopened.detail("run_live_here").summary.status == "running")
        #expect(try await reopened.detail("run_live_peer").summary.status == "running")
        await store.shutdown()
        await reopened.shutdown()
    }

    @Test func retentionDeletesOldRunsOnOpen() async throws {
        let url = try PostgresCluster.freshDatabase()
        let store = try await open(url)
        var old = start("run_old")
        old.startedAt = Date().addingTimeInterval(-40 * 86_400)
        _ = await store.write([.started(old), .started(start("run_new"))])
        let reopened = try await open(url)
        #expect(try await reopened.list(RunFilter()).map(\.runID) == ["run_new"])
        await store.shutdown()
        await reopened.shutdown()
    }

    @Test func aTaskCreatedOnOneReplicaIsPolledCancelledAndReadOnAnother() async throws {
        let url = try PostgresCluster.freshDatabase()
        let first = try await open(url), second = try await open(url)
        let onA = HistoryStores.taskState(sharing: HistoryHandle(opened: first)), onB = HistoryStores.taskState(sharing: HistoryHandle(opened: second))
        #expect(onA is DeferredTaskStateStore)
        try await onA.create(TaskState(taskID: "task_1", owner: "owner#1", ttlMS: 60_000))
        await #expect(throws: TaskStateError.duplicate("task_1")) { try await onB.create(TaskState(taskID: "task_1", owner: "owner#1")) }
        #expect(try await onB.get("task_1")?.status == .working)
        #expect(try await onB.requestCancel("task_1")?.cancelRequested == true)
        #expect(try await onA.get("task_1")?.cancelRequested == true)
        let done = try await onA.update("task_1", status: .completed, message: "done", result: .object(["answer": .int(42)]))
        #expect(done?.status == .completed)
        #expect(try await onB.get("task_1")?.result == .object(["answer": .int(42)]))
        #expect(try await onB.list(owner: "owner#1", limit: 10).map(\.taskID) == ["task_1"])
        #expect(try await onB.list(owner: "owner#2", limit: 10).isEmpty)
        #expect(try await onB.get("task_missing") == nil)
        // Ended is final in the shared table too: a cancel arriving after the completion changes nothing.
        #expect(try await onB.update("task_1", status: .cancelled, message: "too late", result: nil)?.status == .completed)
        try await onA.create(TaskState(taskID: "task_old", owner: "owner#1", ttlMS: 1_000, createdAt: Date().addingTimeInterval(-5)))
        #expect(try await onB.deleteExpired(now: Date()) == 1)
        #expect(try await onA.get("task_old") == nil)
        try await onA.create(TaskState(taskID: "task_2", owner: "owner#1"))
        _ = try await onA.update("task_2", status: .failed, message: "failed", result: nil, error: ["code": -32603, "message": "boom"])
        #expect(try await onB.get("task_2")?.error == ["code": -32603, "message": "boom"])
        await first.shutdown()
        await second.shutdown()
    }

    @Test func theClientRunsBeforeTheOpensFirstQuery() async throws {
        let log = CapturedLog()
        let settings = HistorySettings(directory: "/nonexistent", databaseURL: try PostgresCluster.freshDatabase())
        let store = try await PostgresRunStore.open(settings: settings, logger: log.logger)
        // PostgresClient warns when a connection is leased before `run()` has started; the open must not race it.
        #expect(log.warnings.isEmpty)
        await store.shutdown()
    }

    @Test func aMalformedURLIsRefusedWithoutEchoingIt() async throws {
        await #expect {
            try await open(Secret("mysql://user:hunter2@host/db"))
        } throws: { error in
            "\(error)".contains("RLM_DATABASE_URL") && !"\(error)".contains("hunter2")
        }
    }

    @Test func progressReadsOnlyTheStepsAfterTheLowerBound() async throws {
        let store = try await open(try PostgresCluster.freshDatabase())
        _ = await store.write([.started(start("run_live"))] + (1...3).map { .step(runID: "run_live", step($0)) })
        #expect(try await store.progress("run_live", afterStep: 0).steps.map(\.iteration) == [1, 2, 3])
        let later = try await store.progress("run_live", afterStep: 2)
        #expect(later.steps.map(\.iteration) == [3] && later.summary.status == "running")
        await #expect(throws: HistoryError.runNotFound("run_missing")) { try await store.progress("run_missing", afterStep: 0) }
        await store.shutdown()
    }

    func start(_ id: String) -> RunStart {
        RunStart(runID: id, origin: RunOrigin(), task: "task of \(id)", models: models, limits: .init(), context: .none, startedAt: Date())
    }

    func step(_ iteration: Int) -> Step {
        Step(iteration: iteration, reply: "reply", model: "openai/gpt-4o", inputTokens: 1, outputTokens: 1, latencyMS: 1, blocks: [],
             feedback: nil, durationMS: 1)
    }
}
