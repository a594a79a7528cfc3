import Logging
import PostgresNIO

/// The PostgreSQL schema, one numbered migration per change (never edit a shipped one; add the next). Replicas may
/// start together: an advisory lock lets one migrate while the others wait.
enum PostgresSchema {
    static let migrations: [(version: Int, name: String, sql: [String])] = [
        (1, "runs, steps, sub-calls, replicas", [
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY, parent_id TEXT, tool TEXT NOT NULL, task TEXT NOT NULL, root_model TEXT NOT NULL,
                sub_model TEXT NOT NULL, limits_json TEXT NOT NULL, workspace TEXT, owner TEXT, context_kind TEXT NOT NULL,
                context_size BIGINT NOT NULL, context_preview TEXT NOT NULL, context_full TEXT, status TEXT NOT NULL,
                answer_json TEXT, message TEXT, iterations BIGINT NOT NULL DEFAULT 0, llm_calls BIGINT NOT NULL DEFAULT 0,
                usage_json TEXT, total_tokens BIGINT NOT NULL DEFAULT 0, cost_usd DOUBLE PRECISION,
                started_at DOUBLE PRECISION NOT NULL, ended_at DOUBLE PRECISION, duration_ms DOUBLE PRECISION,
                host TEXT NOT NULL, pid BIGINT NOT NULL)
            """,
            "CREATE INDEX runs_started ON runs(started_at DESC)",
            "CREATE INDEX runs_status_started ON runs(status, started_at DESC)",
            "CREATE INDEX runs_parent ON runs(parent_id)",
            "CREATE INDEX runs_workspace_started ON runs(workspace, started_at DESC)",
            "CREATE INDEX runs_owner_started ON runs(owner, started_at DESC)",
            """
            CREATE TABLE steps (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq BIGINT NOT NULL, iteration BIGINT NOT NULL,
                model TEXT NOT NULL, input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
                duration_ms DOUBLE PRECISION NOT NULL, body_json TEXT NOT NULL, PRIMARY KEY (run_id, seq))
            """,
            """
            CREATE TABLE sub_calls (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq BIGINT NOT NULL, block BIGINT NOT NULL,
                idx BIGINT NOT NULL, kind TEXT NOT NULL, model TEXT NOT NULL, prompt_preview TEXT, answer_preview TEXT,
                input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL, latency_ms DOUBLE PRECISION NOT NULL,
                error TEXT, child_run_id TEXT, PRIMARY KEY (run_id, seq, block, idx))
            """,
            // Each process that records runs beats here, so a replica can tell a crashed peer's runs from a live one's.
            "CREATE TABLE replicas (host TEXT NOT NULL, pid BIGINT NOT NULL, seen_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (host, pid))",
        ]),
        (2, "task state shared by replicas", [
            """
            CREATE TABLE tasks (
                id TEXT PRIMARY KEY, owner TEXT NOT NULL, status TEXT NOT NULL, status_message TEXT, result_json TEXT,
                cancel_requested BOOLEAN NOT NULL DEFAULT FALSE, ttl_ms BIGINT, created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL)
            """,
            "CREATE INDEX tasks_owner_created ON tasks(owner, created_at DESC)",
        ]),
        // A failed task's JSON-RPC error, which `tasks/get` returns as `error` (the Tasks wiring).
        (3, "task errors", ["ALTER TABLE tasks ADD COLUMN error_json TEXT"]),
    ]

    /// An arbitrary constant: the advisory lock every rlm-mcp process takes while migrating.
    static let lockKey = 0x726c_6d5f_6d63_70

    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS rlm_schema (version BIGINT PRIMARY KEY, name TEXT NOT NULL)", logger: logger)
            var applied: Set<Int> = []
            for try await version in try await connection.query("SELECT version FROM rlm_schema", logger: logger).decode(Int.self) {
                applied.insert(version)
            }
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO rlm_schema (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
            }
        }
    }
}
