import Foundation
import Logging
import PostgresNIO
import RLMEngine

/// Run events as PostgreSQL rows: the same rows `HistorySink` writes to SQLite.
enum PostgresSink {
    static func apply(_ event: RunEvent, connection: PostgresConnection, keepsContext: Bool, logger: Logger) async throws {
        let encoder = JSONEncoder()
        switch event {
        case let .started(start):
            let context = ContextSummary(start.context, keepFull: keepsContext)
            try await connection.query("""
                INSERT INTO runs (id, parent_id, tool, task, root_model, sub_model, limits_json, workspace, owner, context_kind,
                    context_size, context_preview, context_full, status, started_at, host, pid)
                VALUES (\(start.runID), \(start.origin.parentRunID), \(start.origin.tool), \(start.task), \(start.models.root),
                    \(start.models.sub), \(HistorySink.limitsJSON(start.limits)), \(start.origin.workspace), \(start.origin.owner), \(context.kind),
                    \(context.size), \(context.preview), \(context.full), 'running', \(start.startedAt.timeIntervalSince1970),
                    \(ProcessIdentity.host), \(Int(getpid())))
                ON CONFLICT (id) DO NOTHING
                """, logger: logger)
        case let .step(runID, step):
            var seq = 1
            for try await last in try await connection.query("SELECT COALESCE(MAX(seq), 0) FROM steps WHERE run_id = \(runID)", logger: logger)
                .decode(Int.self) { seq = last + 1 }
            let body = String(decoding: try encoder.encode(step), as: UTF8.self)
            try await connection.query("""
                INSERT INTO steps (run_id, seq, iteration, model, input_tokens, output_tokens, duration_ms, body_json)
                VALUES (\(runID), \(seq), \(step.iteration), \(step.model), \(step.inputTokens), \(step.outputTokens), \(step.durationMS), \(body))
                """, logger: logger)
            for (block, run) in step.blocks.enumerated() {
                for (index, call) in run.subCalls.enumerated() {
                    try await connection.query("""
                        INSERT INTO sub_calls (run_id, seq, block, idx, kind, model, prompt_preview, answer_preview, input_tokens,
                            output_tokens, latency_ms, error, child_run_id)
                        VALUES (\(runID), \(seq), \(block), \(index), \(call.kind), \(call.model), \(call.promptPreview), \(call.answerPreview),
                            \(call.inputTokens), \(call.outputTokens), \(call.latencyMS), \(call.error), \(call.childRunID))
                        """, logger: logger)
                }
            }
        case let .finished(end):
            let answer = try end.answer.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            let usage = String(decoding: try encoder.encode(end.usage), as: UTF8.self)
            try await connection.query("""
                UPDATE runs SET status = \(end.status.rawValue), answer_json = \(answer), message = \(end.message),
                    iterations = \(end.iterations), llm_calls = \(end.llmCalls), usage_json = \(usage), total_tokens = \(end.usage.totalTokens),
                    cost_usd = \(end.usage.costUSD), ended_at = \(end.endedAt.timeIntervalSince1970), duration_ms = \(end.durationMS)
                WHERE id = \(end.runID)
                """, logger: logger)
        }
    }
}

/// PostgreSQL rows read back as the history's types.
enum PostgresRows {
    static func summary(_ row: PostgresRandomAccessRow) throws -> RunSummary {
        RunSummary(runID: try row["id"].decode(String.self), parentRunID: try row["parent_id"].decode(String?.self),
                   tool: try row["tool"].decode(String.self), task: try row["task"].decode(String.self),
                   status: try row["status"].decode(String.self), rootModel: try row["root_model"].decode(String.self),
                   subModel: try row["sub_model"].decode(String.self), iterations: try row["iterations"].decode(Int.self),
                   llmCalls: try row["llm_calls"].decode(Int.self), totalTokens: try row["total_tokens"].decode(Int.self),
                   costUSD: try row["cost_usd"].decode(Double?.self),
                   startedAt: Date(timeIntervalSince1970: try row["started_at"].decode(Double.self)),
                   durationMS: try row["duration_ms"].decode(Double?.self))
    }

    static func detail(_ row: PostgresRandomAccessRow, steps: [RecordedStep], children: [String]) throws -> RunDetail {
        RunDetail(
            summary: try summary(row), workspace: try row["workspace"].decode(String?.self),
            limits: RunHistory.json(try row["limits_json"].decode(String.self)) ?? .null,
            context: .init(kind: try row["context_kind"].decode(String.self), size: try row["context_size"].decode(Int.self),
                           preview: try row["context_preview"].decode(String.self), full: try row["context_full"].decode(String?.self)),
            answer: RunHistory.json(try row["answer_json"].decode(String?.self)), message: try row["message"].decode(String?.self),
            usage: try RunHistory.usage(try row["usage_json"].decode(String?.self)),
            endedAt: try row["ended_at"].decode(Double?.self).map(Date.init(timeIntervalSince1970:)), steps: steps, children: children
        )
    }
}
