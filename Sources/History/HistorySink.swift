import RLMCommon
import Foundation
import GRDB
import RLMEngine

/// Turns run events into rows: a start inserts the run as `running`, a step adds its step and sub-calls, an end
/// fills in the outcome.
struct HistorySink: Sendable {
    let history: RunHistory

    /// Writes `events` in one transaction; returns what could not be written (each event stands alone).
    func write(_ events: [RunEvent]) async -> [String] {
        let keepsContext = history.settings.keepsContext
        do {
            return try await history.pool.write { db in
                var problems: [String] = []
                for event in events {
                    do {
                        try db.inSavepoint {
                            try Self.apply(event, db: db, keepsContext: keepsContext)
                            return .commit
                        }
                    } catch {
                        problems.append("could not record \(Self.describe(event)): \(error)")
                    }
                }
                return problems
            }
        } catch {
            return ["could not write \(events.count) events: \(error)"]
        }
    }

    static func apply(_ event: RunEvent, db: Database, keepsContext: Bool) throws {
        let encoder = JSONEncoder()
        switch event {
        case let .started(start):
            let context = ContextSummary(start.context, keepFull: keepsContext)
            try db.execute(sql: """
                INSERT OR IGNORE INTO runs (id, parent_id, tool, task, root_model, sub_model, limits_json, workspace, owner, context_kind,
                    context_size, context_preview, context_full, status, started_at, host, pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)
                """, arguments: [
                    start.runID, start.origin.parentRunID, start.origin.tool, start.task, start.models.root, start.models.sub,
                    limitsJSON(start.limits), start.origin.workspace, start.origin.owner, context.kind, context.size, context.preview, context.full,
                    start.startedAt.timeIntervalSince1970, ProcessIdentity.host, Int(getpid()),
                ])
        case let .step(runID, step):
            let seq = (try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM steps WHERE run_id = ?", arguments: [runID]) ?? 0) + 1
            try db.execute(sql: """
                INSERT INTO steps (run_id, seq, iteration, model, input_tokens, output_tokens, duration_ms, body_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [runID, seq, step.iteration, step.model, step.inputTokens, step.outputTokens, step.durationMS,
                                 String(decoding: try encoder.encode(step), as: UTF8.self)])
            for (block, run) in step.blocks.enumerated() {
                for (index, call) in run.subCalls.enumerated() {
                    try db.execute(sql: """
                        INSERT INTO sub_calls (run_id, seq, block, idx, kind, model, prompt_preview, answer_preview, input_tokens,
                            output_tokens, latency_ms, error, child_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [runID, seq, block, index, call.kind, call.model, call.promptPreview, call.answerPreview,
                                         call.inputTokens, call.outputTokens, call.latencyMS, call.error, call.childRunID])
                }
            }
        case let .finished(end):
            try db.execute(sql: """
                UPDATE runs SET status = ?, answer_json = ?, message = ?, iterations = ?, llm_calls = ?, usage_json = ?,
                    total_tokens = ?, cost_usd = ?, ended_at = ?, duration_ms = ? WHERE id = ?
                """, arguments: [
                    end.status.rawValue, try end.answer.map { String(decoding: try encoder.encode($0), as: UTF8.self) }, end.message,
                    end.iterations, end.llmCalls, String(decoding: try encoder.encode(end.usage), as: UTF8.self), end.usage.totalTokens,
                    end.usage.costUSD, end.endedAt.timeIntervalSince1970, end.durationMS, end.runID,
                ])
        }
    }

    static func limitsJSON(_ limits: RunLimits) -> String {
        var fields: [String: JSONValue] = [
            "max_iterations": .int(limits.maxIterations), "max_depth": .int(limits.maxDepth),
            "max_llm_calls": .int(limits.maxLLMCalls), "timeout_s": .double(limits.timeout.seconds),
            "max_output_chars": .int(limits.maxOutputChars),
        ]
        if let tokens = limits.maxTotalTokens { fields["max_total_tokens"] = .int(tokens) }
        if let cost = limits.maxCostUSD { fields["max_cost_usd"] = .double(cost) }
        return (try? JSONEncoder().encode(JSONValue.object(fields))).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func describe(_ event: RunEvent) -> String {
        switch event {
        case let .started(start): "the start of \(start.runID)"
        case let .step(runID, step): "step \(step.iteration) of \(runID)"
        case let .finished(end): "the end of \(end.runID)"
        }
    }
}
