import Foundation
import RLMCommon

/// Task state that waits for the run history to open before the first task call, then shares it through PostgreSQL
/// (or keeps it in this process's memory when the history turned out not to be PostgreSQL, or failed to open —
/// tasks still work, on this replica only).
public final class DeferredTaskStateStore: TaskStateStore {
    private let resolved: Task<any TaskStateStore, Never>

    public init(handle: HistoryHandle) {
        resolved = Task {
            if let postgres = await handle.storeIfOpened() as? PostgresRunStore { return PostgresTaskStateStore(sharing: postgres) }
            return InMemoryTaskStateStore()
        }
    }

    private var store: any TaskStateStore { get async { await resolved.value } }

    public func create(_ state: TaskState) async throws { try await store.create(state) }

    public func get(_ taskID: String) async throws -> TaskState? { try await store.get(taskID) }

    public func update(_ taskID: String, status: TaskState.Status, message: String?, result: JSONValue?, error: JSONValue?) async throws -> TaskState? {
        try await store.update(taskID, status: status, message: message, result: result, error: error)
    }

    public func requestCancel(_ taskID: String) async throws -> TaskState? { try await store.requestCancel(taskID) }

    public func list(owner: String, limit: Int) async throws -> [TaskState] { try await store.list(owner: owner, limit: limit) }

    @discardableResult
    public func deleteExpired(now: Date) async throws -> Int { try await store.deleteExpired(now: now) }
}
