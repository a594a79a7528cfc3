import ArgumentParser
import Foundation
import History
import RLMConfig

/// `rlm-mcp runs`: the recorded runs, from the history database the server and `rlm-mcp run` write.
struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, export and delete recorded RLM runs.",
        discussion: """
            Every RLM run (the rlm_* tools, `rlm-mcp run`, their child runs and subtasks) is recorded as it happens in \
            history.sqlite under RLM_DATA_DIR (default $XDG_DATA_HOME/rlm-mcp, else ~/.local/share/rlm-mcp), or in \
            PostgreSQL with RLM_DATABASE_URL. \
            RLM_HISTORY=off stops recording; RLM_HISTORY_DAYS sets how long runs are kept.
            """,
        subcommands: [RunsList.self, RunsShow.self, RunsExport.self, RunsDelete.self, RunsServe.self]
    )
}

extension ConfigOptions {
    /// The history the configuration names, or a clear message and exit status 2.
    func openHistory() async throws -> any RunStore {
        let config = try resolve()
        do {
            return try await HistoryStores.open(HistorySettings(config: config))
        } catch {
            FileHandle.standardError.write(Data("rlm-mcp: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// One recorded run, or its failure printed and exit status 1 (an unknown id, say).
    func recordedRun(_ runID: String) async throws -> RunDetail {
        let history = try await openHistory()
        do {
            let run = try await history.detail(runID)
            await history.shutdown()
            return run
        } catch {
            await history.shutdown()
            throw failRuns(error)
        }
    }
}

/// Prints `error` as the command's one-line failure and exits with status 1.
func failRuns(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("rlm-mcp: \(error)\n".utf8))
    return ExitCode(1)
}

/// JSON the way the runs commands print it: the history's one JSON form (the MCP resources use it too).
typealias RunsJSON = RunJSON
