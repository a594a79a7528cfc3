import ArgumentParser
import Foundation
import History

/// `rlm-mcp runs delete`: removes one run (with its child runs) or every run older than an age.
struct RunsDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete one run, or every run older than an age.")

    @Argument(help: "The run id (run_…) to delete, with its steps and child runs.")
    var runID: String?

    @Option(help: "Delete every run started longer ago than this: 7d, 12h or 30m.")
    var olderThan: String?

    @OptionGroup var options: ConfigOptions

    func validate() throws {
        switch (runID, olderThan) {
        case (nil, nil): throw ValidationError("name a run id, or give --older-than (e.g. 7d)")
        case (_?, _?): throw ValidationError("give either a run id or --older-than, not both")
        default: break
        }
        if let olderThan, Self.age(olderThan) == nil { throw ValidationError(HistoryError.invalidAge(olderThan).description) }
    }

    func run() async throws {
        let history = try await options.openHistory()
        do {
            if let runID {
                guard try await history.delete(runID) else { throw HistoryError.runNotFound(runID) }
                print("deleted \(runID)")
            } else if let olderThan, let age = Self.age(olderThan) {
                let count = try await history.delete(startedBefore: Date().addingTimeInterval(-age))
                print("deleted \(count) run\(count == 1 ? "" : "s") older than \(olderThan)")
            }
            await history.shutdown()
        } catch {
            await history.shutdown()
            throw failRuns(error)
        }
    }

    /// Seconds in `7d`, `12h` or `30m`; nil for anything else.
    static func age(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let number = Double(text.dropLast()), number >= 0, number.isFinite else { return nil }
        switch unit {
        case "d": return number * 86_400
        case "h": return number * 3_600
        case "m": return number * 60
        default: return nil
        }
    }
}
