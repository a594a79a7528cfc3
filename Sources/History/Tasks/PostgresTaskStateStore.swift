import Foundation
import PostgresNIO
import RLMCommon

/// Task state in the PostgreSQL database the replicas share (the `tasks` table), over the run store's connections.
public struct PostgresTaskStateStore: TaskStateStore {
    let store: PostgresRunStore

    public init(sharing store: PostgresRunStore) {
        self.store = store
    }

    static let columns = "id, owner, status, status_message, result_json, error_json, cancel_requested, ttl_ms, created_at, updated_at"
    /// The statuses a task never leaves (`TaskState.Status.hasEnded`), as a SQL list.
    static let ended = TaskState.Status.allCases.filter(\.hasEnded).map { "'\($0.rawValue)'" }.joined(separator: ", ")

    public func create(_ state: TaskState) async throws {
        let inserted: [Void] = try await store.collect("""
            INSERT INTO tasks (\(unescaped: Self.columns))
            VALUES (\(state.taskID), \(state.owner), \(state.status.rawValue), \(state.statusMessage), \(Self.text(state.result)),
                \(Self.text(state.error)), \(state.cancelRequested), \(state.ttlMS), \(state.createdAt.timeIntervalSince1970), \(state.updatedAt.timeIntervalSince1970))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """) { _ in () }
        guard !inserted.isEmpty else { throw TaskStateError.duplicate(state.taskID) }
    }

    public func get(_ taskID: String) async throws -> TaskState? {
        try await store.collect("SELECT \(unescaped: Self.columns) FROM tasks WHERE id = \(taskID)", Self.state).first
    }

    public func update(_ taskID: String, status: TaskState.Status, message: String?, result: JSONValue?, error: JSONValue?) async throws -> TaskState? {
        // One statement, so two replicas finishing and cancelling the same task cannot both win.
        let updated = try await store.collect("""
            UPDATE tasks SET status = \(status.rawValue), status_message = \(message),
                result_json = COALESCE(\(Self.text(result)), result_json), error_json = COALESCE(\(Self.text(error)), error_json),
                updated_at = \(Date().timeIntervalSince1970)
            WHERE id = \(taskID) AND status NOT IN (\(unescaped: Self.ended)) RETURNING \(unescaped: Self.columns)
            """, Self.state).first
        if let updated { return updated }
        return try await get(taskID)
    }

    public func requestCancel(_ taskID: String) async throws -> TaskState? {
        try await store.collect("""
            UPDATE tasks SET cancel_requested = TRUE, updated_at = \(Date().timeIntervalSince1970)
            WHERE id = \(taskID) RETURNING \(unescaped: Self.columns)
            """, Self.state).first
    }

    public func list(owner: String, limit: Int) async throws -> [TaskState] {
        try await store.collect("""
            SELECT \(unescaped: Self.columns) FROM tasks WHERE owner = \(owner) ORDER BY created_at DESC LIMIT \(limit)
            """, Self.state)
    }

    public func deleteExpired(now: Date) async throws -> Int {
        try await store.collect("""
            DELETE FROM tasks WHERE ttl_ms IS NOT NULL AND created_at + ttl_ms::double precision / 1000 < \(now.timeIntervalSince1970) RETURNING id
            """) { _ in () }.count
    }

    static func text(_ value: JSONValue?) -> String? {
        value.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    static func state(_ row: PostgresRandomAccessRow) throws -> TaskState {
        guard let status = TaskState.Status(rawValue: try row["status"].decode(String.self)) else {
            throw HistoryError.database(server: "tasks table", reason: "unknown task status \(try row["status"].decode(String.self))")
        }
        return TaskState(taskID: try row["id"].decode(String.self), owner: try row["owner"].decode(String.self), status: status,
                         statusMessage: try row["status_message"].decode(String?.self),
                         result: try row["result_json"].decode(String?.self).flatMap { JSONValue.parse(Data($0.utf8)) },
                         error: try row["error_json"].decode(String?.self).flatMap { JSONValue.parse(Data($0.utf8)) },
                         cancelRequested: try row["cancel_requested"].decode(Bool.self), ttlMS: try row["ttl_ms"].decode(Int?.self),
                         createdAt: Date(timeIntervalSince1970: try row["created_at"].decode(Double.self)),
                         updatedAt: Date(timeIntervalSince1970: try row["updated_at"].decode(Double.self)))
    }
}
