import Foundation
import RLMCommon

/// Task state in this process's memory: the store for a single replica (and for tests).
public actor InMemoryTaskStateStore: TaskStateStore {
    private var tasks: [String: TaskState] = [:]

    public init() {}

    public func create(_ state: TaskState) throws {
        guard tasks[state.taskID] == nil else { throw TaskStateError.duplicate(state.taskID) }
        tasks[state.taskID] = state
    }

    public func get(_ taskID: String) -> TaskState? { tasks[taskID] }

    public func update(_ taskID: String, status: TaskState.Status, message: String?, result: JSONValue?, error: JSONValue?) -> TaskState? {
        guard var task = tasks[taskID] else { return nil }
        guard !task.status.hasEnded else { return task }
        task.status = status
        task.statusMessage = message
        if let result { task.result = result }
        if let error { task.error = error }
        task.updatedAt = Date()
        tasks[taskID] = task
        return task
    }

    public func requestCancel(_ taskID: String) -> TaskState? {
        guard var task = tasks[taskID] else { return nil }
        task.cancelRequested = true
        task.updatedAt = Date()
        tasks[taskID] = task
        return task
    }

    public func list(owner: String, limit: Int) -> [TaskState] {
        Array(tasks.values.filter { $0.owner == owner }.sorted { $0.createdAt > $1.createdAt }.prefix(limit))
    }

    public func deleteExpired(now: Date) -> Int {
        let expired = tasks.values.filter { $0.hasExpired(at: now) }.map(\.taskID)
        for id in expired { tasks[id] = nil }
        return expired.count
    }
}
