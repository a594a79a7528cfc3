import Foundation
import Logging
import PostgresNIO
import RLMCommon
import RLMEngine

/// The run history in a PostgreSQL database that several replicas share (`RLM_DATABASE_URL`): same tables, same
/// retention and the same interrupted-run rule as the SQLite file, plus a heartbeat per process so a replica marks
/// only the runs of a peer that stopped beating.
public final class PostgresRunStore: RunStore {
    public let settings: HistorySettings
    let client: PostgresClient
    let server: String
    let logger: Logger
    private let tasks: [Task<Void, Never>]

    /// A peer whose heartbeat is older than this is taken for dead.
    static let heartbeatInterval: Duration = .seconds(15)
    static let staleAfterSeconds: Double = 90

    /// Connects, migrates, registers this process's heartbeat, marks orphaned runs `interrupted` and applies retention.
    public static func open(settings: HistorySettings, logger: Logger = Logger(label: "rlm-mcp.history"),
                            now: Date = Date()) async throws(HistoryError) -> PostgresRunStore {
        guard settings.enabled else { throw .disabled }
        guard let secret = settings.databaseURL else { throw .invalidDatabaseURL(problem: "not set") }
        let url = try PostgresURL(secret)
        try await PostgresProbe.connect(url, logger: logger)
        let client = PostgresClient(configuration: url.clientConfiguration, backgroundLogger: logger)
        // Immediate: `run()` marks the client running before its first suspension, so that happens before the first
        // query below (a plain Task may start later, and the client then warns that `run()` was not called).
        let running = Task.immediate { await client.run() }
        do {
            try await PostgresSchema.migrate(client, logger: logger)
            try await beat(client, now: now)
            try await markInterrupted(client, now: now)
            let cutoff = now.addingTimeInterval(-Double(settings.retentionDays) * 86_400).timeIntervalSince1970
            try await client.query("DELETE FROM runs WHERE started_at < \(cutoff)")
        } catch {
            running.cancel()
            throw .database(server: url.server, reason: PostgresProblem.describe(error))
        }
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeatInterval)
                try? await beat(client, now: Date())
            }
        }
        return PostgresRunStore(settings: settings, client: client, server: url.server, logger: logger, tasks: [running, heartbeat])
    }

    private init(settings: HistorySettings, client: PostgresClient, server: String, logger: Logger, tasks: [Task<Void, Never>]) {
        self.settings = settings
        self.client = client
        self.server = server
        self.logger = logger
        self.tasks = tasks
    }

    /// Replicas sharing this database share Tasks' state through it too.
    public func sharedTaskState() -> (any TaskStateStore)? { PostgresTaskStateStore(sharing: self) }

    public func shutdown() async {
        _ = try? await client.query("DELETE FROM replicas WHERE host = \(ProcessIdentity.host) AND pid = \(Int(getpid()))")
        for task in tasks { task.cancel() }
    }

    // MARK: - Liveness

    static func beat(_ client: PostgresClient, now: Date) async throws {
        try await client.query("""
            INSERT INTO replicas (host, pid, seen_at) VALUES (\(ProcessIdentity.host), \(Int(getpid())), \(now.timeIntervalSince1970))
            ON CONFLICT (host, pid) DO UPDATE SET seen_at = EXCLUDED.seen_at
            """)
    }

    /// A run left `running` is orphaned when its process is gone: on this host, a pid that no longer exists; on
    /// another host, a process whose heartbeat went stale. A live replica's runs are never touched.
    static func markInterrupted(_ client: PostgresClient, now: Date) async throws {
        let host = ProcessIdentity.host
        let stale = now.timeIntervalSince1970 - staleAfterSeconds
        var orphans: [String] = []
        let rows = try await client.query("""
            SELECT r.id, r.host, r.pid, p.seen_at FROM runs r LEFT JOIN replicas p ON p.host = r.host AND p.pid = r.pid
            WHERE r.status = 'running'
            """)
        for try await (id, runHost, pid, seenAt) in rows.decode((String, String, Int, Double?).self) {
            let gone = runHost == host
                ? pid != Int(getpid()) && kill(pid_t(pid), 0) != 0 && errno == ESRCH
                : (seenAt ?? 0) < stale
            if gone { orphans.append(id) }
        }
        for id in orphans {
            try await client.query("""
                UPDATE runs SET status = 'interrupted', message = 'the server stopped before this run finished (crash or kill)'
                WHERE id = \(id) AND status = 'running'
                """)
        }
        try await client.query("DELETE FROM replicas WHERE seen_at < \(stale)")
    }

    // MARK: - Writing

    public func write(_ events: [RunEvent]) async -> [String] {
        let keepsContext = settings.keepsContext
        do {
            return try await client.withTransaction(logger: logger) { connection in
                var problems: [String] = []
                for (index, event) in events.enumerated() {
                    let savepoint = "event_\(index)"
                    try await connection.query(PostgresQuery(unsafeSQL: "SAVEPOINT \(savepoint)"), logger: logger)
                    do {
                        try await PostgresSink.apply(event, connection: connection, keepsContext: keepsContext, logger: logger)
                        try await connection.query(PostgresQuery(unsafeSQL: "RELEASE SAVEPOINT \(savepoint)"), logger: logger)
                    } catch {
                        try await connection.query(PostgresQuery(unsafeSQL: "ROLLBACK TO SAVEPOINT \(savepoint)"), logger: logger)
                        problems.append("could not record \(HistorySink.describe(event)): \(PostgresProblem.describe(error))")
                    }
                }
                return problems
            }
        } catch {
            return ["could not write \(events.count) events to PostgreSQL at \(server): \(PostgresProblem.describe(error))"]
        }
    }

    // MARK: - Reading

    public func list(_ filter: RunFilter) async throws -> [RunSummary] {
        let clause = RunFilterSQL(filter, placeholder: { "$\($0)" }, insensitiveLike: "ILIKE")
        var binds = PostgresBindings(capacity: clause.values.count + 1)
        for value in clause.values {
            switch value {
            case let .text(text): binds.append(text)
            case let .seconds(seconds): binds.append(seconds)
            }
        }
        binds.append(filter.limit)
        let sql = "SELECT \(RunHistory.summaryColumns) FROM runs\(clause.whereClause) ORDER BY started_at DESC LIMIT $\(binds.count)"
        return try await collect(PostgresQuery(unsafeSQL: sql, binds: binds)) { try PostgresRows.summary($0) }
    }

    public func detail(_ runID: String) async throws -> RunDetail {
        let found = try await collect("SELECT * FROM runs WHERE id = \(runID)") { $0 }
        guard let row = found.first else { throw HistoryError.runNotFound(runID) }
        let decoder = JSONDecoder()
        let steps = try await collect("SELECT body_json FROM steps WHERE run_id = \(runID) ORDER BY seq") {
            try decoder.decode(RecordedStep.self, from: Data(try $0["body_json"].decode(String.self).utf8))
        }
        let children = try await collect("SELECT id FROM runs WHERE parent_id = \(runID) ORDER BY started_at") {
            try $0["id"].decode(String.self)
        }
        return try PostgresRows.detail(row, steps: steps, children: children)
    }

    public func progress(_ runID: String, afterStep: Int) async throws -> RunProgress {
        let sql = "SELECT \(RunHistory.summaryColumns) FROM runs WHERE id = $1"
        var binds = PostgresBindings(capacity: 1)
        binds.append(runID)
        guard let summary = try await collect(PostgresQuery(unsafeSQL: sql, binds: binds), { try PostgresRows.summary($0) }).first else {
            throw HistoryError.runNotFound(runID)
        }
        let decoder = JSONDecoder()
        let steps = try await collect("SELECT body_json FROM steps WHERE run_id = \(runID) AND seq > \(afterStep) ORDER BY seq") {
            try decoder.decode(RecordedStep.self, from: Data(try $0["body_json"].decode(String.self).utf8))
        }
        return RunProgress(summary: summary, steps: steps)
    }

    // MARK: - Deleting

    public func delete(_ runID: String) async throws -> Bool {
        let deleted = try await collect("""
            WITH RECURSIVE doomed(id) AS (SELECT id FROM runs WHERE id = \(runID) UNION SELECT runs.id FROM runs JOIN doomed ON runs.parent_id = doomed.id)
            DELETE FROM runs WHERE id IN (SELECT id FROM doomed) RETURNING id
            """) { try $0["id"].decode(String.self) }
        return !deleted.isEmpty
    }

    public func delete(startedBefore date: Date) async throws -> Int {
        try await collect("DELETE FROM runs WHERE started_at < \(date.timeIntervalSince1970) RETURNING id") { _ in () }.count
    }

    /// Runs `query` and maps each row; a failure becomes a `HistoryError` naming the server, never the credentials.
    func collect<T>(_ query: PostgresQuery, _ transform: (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        do {
            var results: [T] = []
            for try await row in try await client.query(query, logger: logger) {
                results.append(try transform(row.makeRandomAccess()))
            }
            return results
        } catch let error as HistoryError {
            throw error
        } catch {
            throw HistoryError.database(server: server, reason: PostgresProblem.describe(error))
        }
    }
}
