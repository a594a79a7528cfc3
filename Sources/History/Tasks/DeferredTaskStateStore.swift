import Foundation
import RLMCommon

/// Task state that waits for the run history to open before the first task call, then shares it through PostgreSQL
/// (or keeps it in this process's memory when the history failed to open — tasks still work, on this replica only).
/// A call that finds the history still opening after `HistoryHandle.patience` gets `stillOpening` rather than waiting.
public actor DeferredTaskStateStore: TaskStateStore {
    private let handle: HistoryHandle
    private var resolved: (any TaskStateStore)?

    public init(handle: HistoryHandle) {
        self.handle = handle
    }

    private var store: any TaskStateStore {
        get async throws(HistoryError) {
            if let resolved { return resolved }
            let store: any TaskStateStore
            do {
                let history = try await handle.store(waitingAtMost: HistoryHandle.patience)
                store = history.sharedTaskState() ?? InMemoryTaskStateStore()
            } catch {
                guard case .failed = handle.state else { throw error }
                store = InMemoryTaskStateStore()
            }
            // Two callers may resolve at once: the first one's store is kept, so every task lives in one place.
            if let resolved { return resolved }
            resolved = store
            return store
        }
    }

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
