import Foundation
import History
import RLMCommon
import RLMEngine

/// The /runs list page's values; every string is rendered escaped.
struct ListPage: Sendable {
    struct Option: Sendable {
        var value: String
        var selected: Bool
    }

    struct Row: Sendable {
        var id, started, status, tool, cost, task: String
        var iterations, tokens: Int
        var child: Bool
    }

    var runs: [Row]
    var statuses: [Option]
    var tools: [Option]
    var since, until, query: String
    var problem: String?
    var loggedIn: Bool
}

/// A trajectory page's values.
struct RunPage: Sendable {
    var id, status, tool, started, duration, rootModel, subModel, task, contextKind, cost: String
    var contextPreview, parent, workspace, answer, message: String?
    var iterations, llmCalls, tokens, contextSize, stepCount: Int
    var steps: [StepView]
    var children: [String]
    var hasChildren: Bool
    var live: Bool
    var loggedIn: Bool
}

/// One iteration on the timeline (also sent alone over SSE while a run is live).
struct StepView: Sendable {
    struct Block: Sendable {
        var code, duration: String
        var stdout, stderr, error: String?
        var submitted, truncated: Bool
        var subCalls: [SubCall]
        var hasSubCalls: Bool
    }

    struct SubCall: Sendable {
        var kind, model, latency: String
        var tokens: Int
        var prompt, answer, child, error: String?
    }

    var iteration: Int
    var model, reply, latency, duration, cost: String
    var inputTokens, outputTokens: Int
    var feedback: String?
    var blocks: [Block]
}

/// Builds page values from recorded runs: formatting only, no HTML (the templates escape).
enum ViewerFormat {
    static let statuses = ["running", "submitted", "fallback", "budget_exceeded", "error", "interrupted"]
    static let tools = ["rlm_execute", "rlm_query", "rlm_decompose", "rlm_workspace_execute", "run"]

    static func when(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate, .withSpaceBetweenDateAndTime]) + " UTC"
    }

    static func millis(_ value: Double?) -> String {
        guard let value else { return "—" }
        return value >= 1000 ? String(format: "%.2f s", value / 1000) : String(format: "%.0f ms", value)
    }

    static func cost(_ value: Double?) -> String {
        value.map { String(format: "$%.4f", $0) } ?? "cost unknown"
    }

    static func row(_ run: RunSummary) -> ListPage.Row {
        let task = run.task.replacingOccurrences(of: "\n", with: " ")
        return .init(id: run.runID, started: when(run.startedAt), status: run.status, tool: run.tool, cost: cost(run.costUSD),
                     task: task.count > 160 ? String(task.prefix(159)) + "…" : task, iterations: run.iterations,
                     tokens: run.totalTokens, child: run.parentRunID != nil)
    }

    static func step(_ step: RecordedStep, prices: PriceTable) -> StepView {
        let stepCost = prices.price(of: step.model).map {
            (Double(step.inputTokens) * $0.input + Double(step.outputTokens) * $0.output) / 1_000_000
        }
        return StepView(
            iteration: step.iteration, model: step.model, reply: step.reply, latency: millis(step.latencyMS),
            duration: millis(step.durationMS), cost: cost(stepCost), inputTokens: step.inputTokens, outputTokens: step.outputTokens,
            feedback: step.feedback,
            blocks: step.blocks.map { block in
                let calls = block.subCalls.map { call in
                    StepView.SubCall(kind: call.kind, model: call.model, latency: millis(call.latencyMS),
                                     tokens: call.inputTokens + call.outputTokens, prompt: call.promptPreview,
                                     answer: call.answerPreview, child: call.childRunID, error: call.error)
                }
                return StepView.Block(code: block.code, duration: millis(block.durationMS), stdout: nonEmpty(block.stdout),
                                      stderr: nonEmpty(block.stderr), error: block.error, submitted: block.submitted,
                                      truncated: block.truncated, subCalls: calls, hasSubCalls: !calls.isEmpty)
            }
        )
    }

    static func page(_ run: RunDetail, prices: PriceTable, loggedIn: Bool) -> RunPage {
        let summary = run.summary
        return RunPage(
            id: summary.runID, status: summary.status, tool: summary.tool, started: when(summary.startedAt),
            duration: millis(summary.durationMS), rootModel: summary.rootModel, subModel: summary.subModel, task: summary.task,
            contextKind: run.context.kind, cost: cost(summary.costUSD), contextPreview: nonEmpty(run.context.preview),
            parent: summary.parentRunID, workspace: run.workspace, answer: run.answer.map(text), message: run.message,
            iterations: summary.iterations, llmCalls: summary.llmCalls, tokens: summary.totalTokens, contextSize: run.context.size,
            stepCount: run.steps.count, steps: run.steps.map { step($0, prices: prices) }, children: run.children,
            hasChildren: !run.children.isEmpty, live: summary.status == "running", loggedIn: loggedIn
        )
    }

    /// An answer as a reader wants it: a string as itself, anything else as JSON.
    static func text(_ value: JSONValue) -> String {
        if case let .string(string) = value { return string }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
}
