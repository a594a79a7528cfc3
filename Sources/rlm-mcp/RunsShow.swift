import ArgumentParser
import Foundation
import History
import RLMEngine

/// `rlm-mcp runs show`: one run's trajectory, readable on a terminal.
struct RunsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one run: its task, outcome and every step.")

    @Argument(help: "The run id (run_…), as `runs list` prints it.")
    var runID: String

    @Flag(help: "Print the whole run as JSON.")
    var json = false

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let run = try await options.recordedRun(runID)
        print(json ? try RunsJSON.string(run) : TrajectoryText.render(run))
    }
}

/// A run as plain text: a header, then each step's reply, code, output and sub-calls.
enum TrajectoryText {
    static func render(_ run: RunDetail) -> String {
        let summary = run.summary
        var lines = [
            "\(summary.runID)  \(summary.status)  \(summary.tool)",
            "task:     \(summary.task)",
            "models:   \(summary.rootModel) (root), \(summary.subModel) (sub)",
            "started:  \(summary.startedAt)" + (summary.durationMS.map { String(format: "  ·  %.0f ms", $0) } ?? ""),
            "usage:    \(summary.llmCalls) LLM calls · \(summary.totalTokens) tokens" + (summary.costUSD.map { String(format: " · $%.4f", $0) } ?? ""),
            "context:  \(run.context.kind), \(run.context.size) bytes" + (run.context.preview.isEmpty ? "" : ": \(oneLine(run.context.preview, 100))"),
        ]
        if let parent = summary.parentRunID { lines.append("parent:   \(parent)") }
        if !run.children.isEmpty { lines.append("children: \(run.children.joined(separator: ", "))") }
        for step in run.steps {
            lines.append("")
            lines.append("── iteration \(step.iteration) · \(step.model) · \(step.inputTokens)+\(step.outputTokens) tokens · "
                + String(format: "%.0f ms model, %.0f ms code", step.latencyMS, step.durationMS))
            lines.append(indent(step.reply.trimmingCharacters(in: .whitespacesAndNewlines), "  │ "))
            for (index, block) in step.blocks.enumerated() {
                lines.append("  ▶ code block \(index + 1)" + String(format: " (%.0f ms)", block.durationMS) + (block.submitted ? " · SUBMIT" : ""))
                if !block.stdout.isEmpty { lines.append(indent(trailingNewlineDropped(block.stdout), "    out │ ")) }
                if !block.stderr.isEmpty { lines.append(indent(trailingNewlineDropped(block.stderr), "    err │ ")) }
                if let error = block.error { lines.append(indent(error, "    exc │ ")) }
                for call in block.subCalls {
                    var text = "    ↳ \(call.kind) \(call.model) · \(call.inputTokens)+\(call.outputTokens) tokens · " + String(format: "%.0f ms", call.latencyMS)
                    if let child = call.childRunID { text += " · child \(child)" }
                    if let error = call.error { text += " · error: \(oneLine(error, 80))" }
                    lines.append(text)
                    if let prompt = call.promptPreview { lines.append("      prompt: \(oneLine(prompt, 100))") }
                    if let answer = call.answerPreview { lines.append("      answer: \(oneLine(answer, 100))") }
                }
            }
            if let feedback = step.feedback { lines.append(indent(feedback, "  ! ")) }
        }
        lines.append("")
        if let answer = run.answer { lines.append("answer: \(answer.displayText)") }
        if let message = run.message { lines.append("message: \(message)") }
        return lines.joined(separator: "\n")
    }

    static func indent(_ text: String, _ prefix: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
    }

    /// Output ends with the newline `print` added; showing it would print an empty line.
    static func trailingNewlineDropped(_ text: String) -> String {
        text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    static func oneLine(_ text: String, _ limit: Int) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ⏎ ")
        return flat.count > limit ? String(flat.prefix(limit - 1)) + "…" : flat
    }
}
