import GRDB

/// The history database's schema, one versioned migration per change (never edit a shipped one; add the next).
enum HistoryMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, steps, sub-calls") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY NOT NULL,
                    parent_id TEXT,
                    tool TEXT NOT NULL,
                    task TEXT NOT NULL,
                    root_model TEXT NOT NULL,
                    sub_model TEXT NOT NULL,
                    limits_json TEXT NOT NULL,
                    workspace TEXT,
                    context_kind TEXT NOT NULL,
                    context_size INTEGER NOT NULL,
                    context_preview TEXT NOT NULL,
                    context_full TEXT,
                    status TEXT NOT NULL,
                    answer_json TEXT,
                    message TEXT,
                    iterations INTEGER NOT NULL DEFAULT 0,
                    llm_calls INTEGER NOT NULL DEFAULT 0,
                    usage_json TEXT,
                    total_tokens INTEGER NOT NULL DEFAULT 0,
                    cost_usd REAL,
                    started_at REAL NOT NULL,
                    ended_at REAL,
                    duration_ms REAL,
                    host TEXT NOT NULL,
                    pid INTEGER NOT NULL
                );
                CREATE INDEX runs_started ON runs(started_at DESC);
                CREATE INDEX runs_status_started ON runs(status, started_at DESC);
                CREATE INDEX runs_parent ON runs(parent_id);
                CREATE TABLE steps (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    iteration INTEGER NOT NULL,
                    model TEXT NOT NULL,
                    input_tokens INTEGER NOT NULL,
                    output_tokens INTEGER NOT NULL,
                    duration_ms REAL NOT NULL,
                    body_json TEXT NOT NULL,
                    PRIMARY KEY (run_id, seq)
                );
                CREATE TABLE sub_calls (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    seq INTEGER NOT NULL,
                    block INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    model TEXT NOT NULL,
                    prompt_preview TEXT,
                    answer_preview TEXT,
                    input_tokens INTEGER NOT NULL,
                    output_tokens INTEGER NOT NULL,
                    latency_ms REAL NOT NULL,
                    error TEXT,
                    child_run_id TEXT,
                    PRIMARY KEY (run_id, seq, block, idx)
                );
                """)
        }
        migrator.registerMigration("v2: run owner, workspace lookups") { db in
            // The owner fingerprint (a bearer token's or a session's) the MCP resources filter on; null until the
            // protocol layer passes it in a run's origin.
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN owner TEXT;
                CREATE INDEX runs_workspace_started ON runs(workspace, started_at DESC);
                CREATE INDEX runs_owner_started ON runs(owner, started_at DESC);
                """)
        }
        return migrator
    }
}
