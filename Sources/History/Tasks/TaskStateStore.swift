import Foundation
import RLMCommon

/// Tasks-extension state that outlives one process's memory: with PostgreSQL, a task created on one replica is polled,
/// cancelled and read on another. One rule is the store's own, as the Tasks extension says: a task that ended
/// (`completed`, `failed`, `cancelled`) never changes again, so a late finish cannot overwrite a cancel (or the reverse)
/// whichever replica writes it.
public protocol TaskStateStore: Sendable {
    /// Stores a new task; a task id that exists already is a `TaskStateError.duplicate`.
    func create(_ state: TaskState) async throws
    func get(_ taskID: String) async throws -> TaskState?
    /// Sets a task's status (with an optional message, result and error) unless it has ended; returns the task as it
    /// is afterwards (unchanged when it had ended), or nil when there is none.
    func update(_ taskID: String, status: TaskState.Status, message: String?, result: JSONValue?, error: JSONValue?) async throws -> TaskState?
    /// Raises the cancel-request flag the replica running the task polls; the task, or nil when there is none.
    func requestCancel(_ taskID: String) async throws -> TaskState?
    /// An owner's tasks, newest first.
    func list(owner: String, limit: Int) async throws -> [TaskState]
    /// Forgets the tasks whose time to live had run out at `now`; returns how many.
    @discardableResult
    func deleteExpired(now: Date) async throws -> Int
}

extension TaskStateStore {
    /// `update` without an error (progress, completion, cancellation).
    public func update(_ taskID: String, status: TaskState.Status, message: String?, result: JSONValue?) async throws -> TaskState? {
        try await update(taskID, status: status, message: message, result: result, error: nil)
    }
}

/// One Tasks-extension task as the store holds it.
public struct TaskState: Sendable, Equatable, Codable {
    /// The Tasks extension's task statuses.
    public enum Status: String, Sendable, Codable, CaseIterable {
        case working, inputRequired = "input_required", completed, failed, cancelled

        /// `completed`, `failed` and `cancelled` are final: such a task never changes again.
        public var hasEnded: Bool { self == .completed || self == .failed || self == .cancelled }
    }

    public var taskID: String
    /// The fingerprint of whoever created it (a bearer token's or a session's); only they see it.
    public var owner: String
    public var status: Status
    public var statusMessage: String?
    /// The tool result once the task `completed`.
    public var result: JSONValue?
    /// The JSON-RPC error (`code`, `message`) once the task `failed`.
    public var error: JSONValue?
    public var cancelRequested: Bool
    /// How long the task is kept after creation, when the caller asked for a limit.
    public var ttlMS: Int?
    public var createdAt: Date
    public var updatedAt: Date

    public init(taskID: String, owner: String, status: Status = .working, statusMessage: String? = nil, result: JSONValue? = nil,
                error: JSONValue? = nil, cancelRequested: Bool = false, ttlMS: Int? = nil, createdAt: Date = Date(), updatedAt: Date? = nil) {
        self.taskID = taskID
        self.owner = owner
        self.status = status
        self.statusMessage = statusMessage
        self.result = result
        self.error = error
        self.cancelRequested = cancelRequested
        self.ttlMS = ttlMS
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    /// Whether the task's time to live had run out at `now` (a task without one never expires).
    public func hasExpired(at now: Date) -> Bool {
        guard let ttlMS else { return false }
        return createdAt.addingTimeInterval(Double(ttlMS) / 1000) < now
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
