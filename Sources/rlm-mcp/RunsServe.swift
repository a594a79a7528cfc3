import ArgumentParser
import Foundation
import History
import RLMConfig
import RunViewer

/// `rlm-mcp runs serve`: the /runs viewer on 127.0.0.1 for stdio users (the HTTP server mounts it at /runs itself).
struct RunsServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Open the run viewer in a browser: http://127.0.0.1:PORT/runs (no MCP endpoint).",
        discussion: "With MCP_AUTH_TOKEN set the page asks for that token once and keeps an HttpOnly session cookie."
    )

    /// `--port` (MCP_PORT, default 8000; 0 picks a free one) comes from the shared options; the address is always 127.0.0.1.
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let config = try options.resolve()
        guard config.historyEnabled else { throw failRuns(HistoryError.disabled) }
        let logger = LogSetup.bootstrapStandardError(level: config.logLevel)
        try await ViewerServer.run(config: config, port: config.port, logger: logger) { port in
            // Printed on stdout so scripts and tests can read the address; the log goes to stderr.
            FileHandle.standardOutput.write(Data("rlm-mcp runs viewer on http://127.0.0.1:\(port)/runs\n".utf8))
        }
    }
}
