import ArgumentParser
import Foundation
import History

/// `rlm-mcp runs list`: the most recent runs, newest first.
struct RunsList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List recorded runs, newest first.")

    @Option(help: "How many runs to show.")
    var limit = 20

    @Option(help: "Only runs with this status: running, submitted, fallback, budget_exceeded, error, interrupted.")
    var status: String?

    @Flag(help: "Print the runs as a JSON array.")
    var json = false

    @OptionGroup var options: ConfigOptions

    static let statuses = ["running", "submitted", "fallback", "budget_exceeded", "error", "interrupted"]

    func validate() throws {
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 100000 (got \(limit))") }
        if let status, !Self.statuses.contains(status) {
            throw ValidationError("--status must be one of \(Self.statuses.joined(separator: ", ")) (got \(status))")
        }
    }

    func run() async throws {
        let history = try await options.openHistory()
        let runs: [RunSummary]
        do {
            runs = try await history.list(RunFilter(limit: limit, status: status))
            await history.shutdown()
        } catch {
            await history.shutdown()
            throw failRuns(error)
        }
        if json {
            print(try RunsJSON.string(runs))
            return
        }
        guard !runs.isEmpty else {
            print(status.map { "no \($0) runs recorded" } ?? "no runs recorded yet")
            return
        }
        for run in runs { print(Self.line(run)) }
    }

    /// One run on one terminal line: id, when, status, tool, iterations, tokens, cost, the start of the task.
    static func line(_ run: RunSummary) -> String {
        let when = ISO8601DateFormatter.string(from: run.startedAt, timeZone: .current, formatOptions: [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate, .withSpaceBetweenDateAndTime])
        let cost = run.costUSD.map { String(format: "$%.4f", $0) } ?? "-"
        let task = run.task.replacingOccurrences(of: "\n", with: " ")
        let shown = task.count > 60 ? String(task.prefix(59)) + "…" : task
        let parent = run.parentRunID == nil ? "" : "  ↳"
        return [run.runID, when, pad(run.status, 15), pad(run.tool, 21), pad("\(run.iterations) it", 6), pad("\(run.totalTokens) tok", 11), pad(cost, 9)]
            .joined(separator: "  ") + parent + "  " + shown
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
