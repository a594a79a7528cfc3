import Foundation
import RLMCommon

/// Tasks-extension state that outlives one process's memory: with PostgreSQL, a task created on one replica is polled,
/// cancelled and read on another. Status transitions are the caller's rules; the store only keeps what it is told.
public protocol TaskStateStore: Sendable {
    /// Stores a new task; a task id that exists already is a `TaskStateError.duplicate`.
    func create(_ state: TaskState) async throws
    func get(_ taskID: String) async throws -> TaskState?
    /// Sets a task's status (with an optional message and result); the updated task, or nil when there is none.
    func update(_ taskID: String, status: TaskState.Status, message: String?, result: JSONValue?) async throws -> TaskState?
    /// Raises the cancel-request flag the replica running the task polls; the task, or nil when there is none.
    func requestCancel(_ taskID: String) async throws -> TaskState?
    /// An owner's tasks, newest first.
    func list(owner: String, limit: Int) async throws -> [TaskState]
}

/// One Tasks-extension task as the store holds it.
public struct TaskState: Sendable, Equatable, Codable {
    /// The Tasks extension's task statuses.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case working, inputRequired = "input_required", completed, failed, cancelled
    }

    public var taskID: String
    /// The fingerprint of whoever created it (a bearer token's or a session's); only they see it.
    public var owner: String
    public var status: Status
    public var statusMessage: String?
    /// The tool result once the task is done.
    public var result: JSONValue?
    public var cancelRequested: Bool
    /// How long the task is kept after creation, when the caller asked for a limit.
    public var ttlMS: Int?
    public var createdAt: Date
    public var updatedAt: Date

    public init(taskID: String, owner: String, status: Status = .working, statusMessage: String? = nil, result: JSONValue? = nil,
                cancelRequested: Bool = false, ttlMS: Int? = nil, createdAt: Date = Date(), updatedAt: Date? = nil) {
        self.taskID = taskID
        self.owner = owner
        self.status = status
        self.statusMessage = statusMessage
        self.result = result
        self.cancelRequested = cancelRequested
        self.ttlMS = ttlMS
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }
}

/// A task store failure the caller can act on.
public enum TaskStateError: Error, Equatable, CustomStringConvertible {
    case duplicate(String)

    public var description: String {
        switch self {
        case let .duplicate(id): "a task \(id) exists already; task ids must be unique"
        }
    }
}
