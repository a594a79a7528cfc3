import RLMCommon
import ArgumentParser
import Foundation
import History
import RLMEngine

/// `rlm-mcp runs export`: one run as a JSON document or as JSON Lines events (schema in docs/history.md).
struct RunsExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export one run as JSON, or as JSON Lines (one event per line).",
        discussion: """
            jsonl events, in order: {"event":"run_started",…}, one {"event":"step",…} per iteration (with its code \
            blocks and sub-calls), {"event":"run_finished",…}. Every line carries "run_id". See docs/history.md.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case json, jsonl }

    @Argument(help: "The run id (run_…).")
    var runID: String

    @Option(help: "json (one document) or jsonl (one event per line).")
    var format: Format = .json

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let run = try await options.recordedRun(runID)
        switch format {
        case .json: print(try RunsJSON.string(run))
        case .jsonl: for event in RunEvents.lines(run) { print(try RunsJSON.string(event, pretty: false)) }
        }
    }
}

/// The JSON Lines events of a recorded run.
enum RunEvents {
    struct Started: Encodable {
        let event = "run_started"
        let run: RunSummary
        let workspace: String?
        let limits: JSONValue
        let context: RunDetail.Context
        let children: [String]
        enum CodingKeys: String, CodingKey { case event, run, workspace, limits, context, children }
    }

    struct StepEvent: Encodable {
        let event = "step"
        let runID: String
        let step: RecordedStep
        enum CodingKeys: String, CodingKey { case event, runID = "run_id", step }
    }

    struct Finished: Encodable {
        let event = "run_finished"
        let runID: String
        let status: String
        let answer: JSONValue?
        let message: String?
        let usage: Usage?
        let endedAt: Date?
        enum CodingKeys: String, CodingKey { case event, runID = "run_id", status, answer, message, usage, endedAt = "ended_at" }
    }

    enum Line: Encodable {
        case started(Started), step(StepEvent), finished(Finished)
        func encode(to encoder: Encoder) throws {
            switch self {
            case let .started(value): try value.encode(to: encoder)
            case let .step(value): try value.encode(to: encoder)
            case let .finished(value): try value.encode(to: encoder)
            }
        }
    }

    static func lines(_ run: RunDetail) -> [Line] {
        var lines: [Line] = [.started(Started(run: run.summary, workspace: run.workspace, limits: run.limits, context: run.context, children: run.children))]
        lines += run.steps.map { .step(StepEvent(runID: run.summary.runID, step: $0)) }
        if run.summary.status != "running" {
            lines.append(.finished(Finished(runID: run.summary.runID, status: run.summary.status, answer: run.answer, message: run.message,
                                            usage: run.usage, endedAt: run.endedAt)))
        }
        return lines
    }
}
