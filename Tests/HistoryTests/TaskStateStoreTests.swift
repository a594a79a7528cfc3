import Foundation
@testable import History
import RLMCommon
import RLMEngine
import Testing

/// The in-memory task store keeps the same contract as the PostgreSQL one.
@Suite struct TaskStateStoreTests {
    @Test func createGetUpdateCancelAndListByOwner() async throws {
        let store = HistoryStores.taskState(sharing: nil)
        #expect(store is InMemoryTaskStateStore)
        try await store.create(TaskState(taskID: "a", owner: "o1", createdAt: Date(timeIntervalSince1970: 1)))
        try await store.create(TaskState(taskID: "b", owner: "o1", createdAt: Date(timeIntervalSince1970: 2)))
        try await store.create(TaskState(taskID: "c", owner: "o2"))
        await #expect(throws: TaskStateError.duplicate("a")) { try await store.create(TaskState(taskID: "a", owner: "o2")) }
        #expect(try await store.list(owner: "o1", limit: 10).map(\.taskID) == ["b", "a"])
        #expect(try await store.requestCancel("a")?.cancelRequested == true)
        #expect(try await store.update("a", status: .cancelled, message: "stopped", result: nil)?.status == .cancelled)
        #expect(try await store.get("a")?.statusMessage == "stopped")
        #expect(try await store.get("zzz") == nil)
        #expect(try await store.update("zzz", status: .failed, message: nil, result: nil) == nil)
    }

    @Test func sharedTaskStateFallsBackToMemoryWhenPostgreSQLFailedToOpen() async throws {
        let handle = HistoryHandle(backend: .postgres) { () async throws(HistoryError) -> any RunStore in
            throw HistoryError.database(server: "db:5432/rlm", reason: "connection refused")
        }
        let store = HistoryStores.taskState(sharing: handle)
        #expect(store is DeferredTaskStateStore)
        try await store.create(TaskState(taskID: "t", owner: "o"))
        #expect(try await store.get("t")?.owner == "o")
        // A SQLite history never shares tasks: no waiting for it at all.
        #expect(HistoryStores.taskState(sharing: HistoryHandle(backend: .sqlite) { () async throws(HistoryError) -> any RunStore in
            throw .disabled
        }) is InMemoryTaskStateStore)
    }

    @Test func anEndedTaskNeverChangesAgainAndExpiredTasksAreForgotten() async throws {
        let store: any TaskStateStore = InMemoryTaskStateStore()
        try await store.create(TaskState(taskID: "t", owner: "o"))
        _ = try await store.update("t", status: .cancelled, message: "cancelled by the client", result: nil)
        // A late finish (the work ending after the cancel, on any replica) leaves the cancel in place.
        let late = try await store.update("t", status: .completed, message: "completed", result: .object(["x": .int(1)]))
        #expect(late?.status == .cancelled && late?.result == nil)
        try await store.create(TaskState(taskID: "f", owner: "o"))
        let failed = try await store.update("f", status: .failed, message: "failed", result: nil, error: ["code": -32603, "message": "boom"])
        #expect(failed?.error == ["code": -32603, "message": "boom"])
        try await store.create(TaskState(taskID: "old", owner: "o", ttlMS: 1_000, createdAt: Date().addingTimeInterval(-5)))
        #expect(try await store.deleteExpired(now: Date()) == 1)
        #expect(try await store.get("old") == nil)
        #expect(try await store.get("t") != nil)
    }

    @Test func aCallerSeesOnlyItsOwnRunsAndOneRunIsCheckedByID() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try RunHistory(settings: HistorySettings(directory: folder.path))
        let models = RunModels(root: "m", sub: "m")
        let origins = ["mine": RunOrigin(workspace: "ws#1"), "owned": RunOrigin(workspace: "ws#2", owner: "tok#a"), "other": RunOrigin(workspace: "ws#3")]
        for (id, origin) in origins {
            _ = await history.write([.started(RunStart(runID: id, origin: origin, task: id, models: models, limits: .init(), context: .none, startedAt: Date()))])
        }
        #expect(try await history.detail("mine", visibleTo: RunVisibility(workspaces: ["ws#1"]))?.summary.runID == "mine")
        #expect(try await history.detail("other", visibleTo: RunVisibility(workspaces: ["ws#1"])) == nil)
        #expect(try await history.detail("owned", visibleTo: RunVisibility(owner: "tok#a")) != nil)
        #expect(try await history.detail("owned", visibleTo: RunVisibility(unowned: true)) == nil)
        #expect(try await history.detail("owned", visibleTo: RunVisibility()) == nil)
        #expect(Set(try await history.recentRuns(visibleTo: RunVisibility(unowned: true)).map(\.runID)) == ["mine", "other"])
    }

    @Test func aSearchIsTakenLiterallyInSQLiteToo() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try RunHistory(settings: HistorySettings(directory: folder.path))
        let models = RunModels(root: "m", sub: "m")
        for (id, task) in [("r1", "raise 100% now"), ("r2", "raise 1000 now"), ("r3", "snake_case")] {
            _ = await history.write([.started(RunStart(runID: id, origin: RunOrigin(tool: id == "r3" ? "rlm_query" : "rlm_execute"),
                                                       task: task, models: models, limits: .init(), context: .none, startedAt: Date()))])
        }
        #expect(try history.list(RunFilter(search: "100%")).map(\.runID) == ["r1"])
        #expect(try history.list(RunFilter(search: "E_C")).map(\.runID) == ["r3"])
        #expect(try history.list(RunFilter(tool: "rlm_query")).map(\.runID) == ["r3"])
        #expect(try history.list(RunFilter(since: Date().addingTimeInterval(60))).isEmpty)
    }
}
