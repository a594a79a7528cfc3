import RLMCommon
import Foundation
import GRDB
import RLMEngine

/// The run history in one SQLite file (WAL, so the CLI reads while a server writes): opening, sweeping, reading, deleting.
public final class RunHistory: RunStore, Sendable {
    let pool: DatabasePool
    public let settings: HistorySettings

    /// Opens (creating when needed) the history under `settings.directory`, migrates it, marks runs left `running` by a
    /// process that no longer exists as `interrupted`, and deletes runs older than the retention.
    public init(settings: HistorySettings, now: Date = Date()) throws(HistoryError) {
        guard settings.enabled else { throw .disabled }
        self.settings = settings
        let path = settings.databasePath
        do {
            // The history holds tasks and model output: readable by its owner only.
            try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.label = "rlm-mcp history"
            pool = try DatabasePool(path: path, configuration: configuration)
            chmod(path, 0o600)
            try HistoryMigrations.migrator.migrate(pool)
            try pool.write { db in
                try Self.markInterrupted(db)
                let cutoff = now.addingTimeInterval(-Double(settings.retentionDays) * 86_400)
                try db.execute(sql: "DELETE FROM runs WHERE started_at < ?", arguments: [cutoff.timeIntervalSince1970])
            }
        } catch let error as HistoryError {
            throw error
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Runs still `running` whose recording process on this host is gone were cut off by a crash or a kill.
    private static func markInterrupted(_ db: Database) throws {
        let host = ProcessIdentity.host
        let rows = try Row.fetchAll(db, sql: "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", arguments: [host])
        for row in rows {
            let pid: Int32 = row["pid"]
            guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try db.execute(sql: """
                UPDATE runs SET status = 'interrupted', message = 'the server stopped before this run finished (crash or kill)'
                WHERE id = ?
                """, arguments: [row["id"] as String])
        }
    }

    // MARK: - Reading

    public func list(_ filter: RunFilter = .init()) throws -> [RunSummary] {
        let clause = RunFilterSQL(filter, placeholder: { _ in "?" }, insensitiveLike: "LIKE")
        var values: [any DatabaseValueConvertible] = clause.values.map { value in
            switch value {
            case let .text(text): text
            case let .seconds(seconds): seconds
            }
        }
        values.append(filter.limit)
        let arguments = StatementArguments(values.map { $0.databaseValue })
        return try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.summaryColumns) FROM runs\(clause.whereClause) ORDER BY started_at DESC LIMIT ?",
                             arguments: arguments).map(Self.summary)
        }
    }

    public func write(_ events: [RunEvent]) async -> [String] {
        await HistorySink(history: self).write(events)
    }

    public func shutdown() async {
        try? pool.close()
    }

    public func detail(_ runID: String) throws -> RunDetail {
        let found: RunDetail? = try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [runID]) else { return nil }
            let decoder = JSONDecoder()
            let steps = try String.fetchAll(db, sql: "SELECT body_json FROM steps WHERE run_id = ? ORDER BY seq", arguments: [runID])
                .map { try decoder.decode(RecordedStep.self, from: Data($0.utf8)) }
            let children = try String.fetchAll(db, sql: "SELECT id FROM runs WHERE parent_id = ? ORDER BY started_at", arguments: [runID])
            return RunDetail(
                summary: Self.summary(row), workspace: row["workspace"], limits: Self.json(row["limits_json"]) ?? .null,
                context: .init(kind: row["context_kind"], size: row["context_size"], preview: row["context_preview"], full: row["context_full"]),
                answer: Self.json(row["answer_json"]), message: row["message"], usage: try Self.usage(row["usage_json"]),
                endedAt: (row["ended_at"] as Double?).map(Date.init(timeIntervalSince1970:)), steps: steps, children: children
            )
        }
        guard let found else { throw HistoryError.runNotFound(runID) }
        return found
    }

    public func progress(_ runID: String, afterStep: Int) throws -> RunProgress {
        let found: RunProgress? = try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.summaryColumns) FROM runs WHERE id = ?", arguments: [runID]) else { return nil }
            let decoder = JSONDecoder()
            let steps = try String.fetchAll(db, sql: "SELECT body_json FROM steps WHERE run_id = ? AND seq > ? ORDER BY seq",
                                            arguments: [runID, afterStep])
                .map { try decoder.decode(RecordedStep.self, from: Data($0.utf8)) }
            return RunProgress(summary: Self.summary(row), steps: steps)
        }
        guard let found else { throw HistoryError.runNotFound(runID) }
        return found
    }

    // MARK: - Deleting

    /// Deletes a run with its steps, sub-calls and child runs; false when there was no such run.
    public func delete(_ runID: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: """
                WITH RECURSIVE doomed(id) AS (SELECT id FROM runs WHERE id = ? UNION SELECT runs.id FROM runs JOIN doomed ON runs.parent_id = doomed.id)
                DELETE FROM runs WHERE id IN (SELECT id FROM doomed)
                """, arguments: [runID])
            return db.changesCount > 0
        }
    }

    /// Deletes every run started before `date`; returns how many.
    public func delete(startedBefore date: Date) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM runs WHERE started_at < ?", arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }

    // MARK: - Rows

    static let summaryColumns = "id, parent_id, tool, task, status, root_model, sub_model, iterations, llm_calls, total_tokens, cost_usd, started_at, duration_ms"

    static func summary(_ row: Row) -> RunSummary {
        RunSummary(runID: row["id"], parentRunID: row["parent_id"], tool: row["tool"], task: row["task"], status: row["status"],
                   rootModel: row["root_model"], subModel: row["sub_model"], iterations: row["iterations"], llmCalls: row["llm_calls"],
                   totalTokens: row["total_tokens"], costUSD: row["cost_usd"],
                   startedAt: Date(timeIntervalSince1970: row["started_at"]), durationMS: row["duration_ms"])
    }

    static func json(_ text: String?) -> JSONValue? {
        text.flatMap { JSONValue.parse(Data($0.utf8)) }
    }

    /// A finished run's `usage_json` as the engine's `Usage`; nil while the run has none yet.
    static func usage(_ text: String?) throws -> Usage? {
        try text.map { try JSONDecoder().decode(Usage.self, from: Data($0.utf8)) }
    }
}

/// This process's host name and pid, stored with each run so another process can tell a crashed run from a live one.
enum ProcessIdentity {
    static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }()
}
