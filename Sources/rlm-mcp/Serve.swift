import ArgumentParser
import Foundation
import Logging
import RLMConfig
import RLMServer
import ServiceLifecycle
import Telemetry

/// `rlm-mcp serve`: run the MCP server on the configured transport until the client leaves or a signal arrives.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the MCP server (the default command).",
        discussion: """
            With stdio (the default) the server speaks MCP on stdin/stdout and logs to stderr. With streamable-http it \
            serves /mcp, with sse it serves /sse and /messages; both also serve /health. SIGINT or SIGTERM end every \
            session and stop the server gracefully.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Allow listening on a non-loopback address without MCP_AUTH_TOKEN (only behind something that authenticates).")
    var allowUnauthenticated = false

    func run() async throws {
        let config = try options.resolve()
        do {
            try config.checkBindSafety(allowUnauthenticated: allowUnauthenticated)
        } catch {
            FileHandle.standardError.write(Data("rlm-mcp: \(error)\n".utf8))
            throw ExitCode(2)
        }
        // A worker that dies mid-write must surface as an error on that pipe, not kill the server.
        signal(SIGPIPE, SIG_IGN)
        let logger = LogSetup.bootstrapStandardError(level: config.logLevel)
        MetricsExposition.bootstrap()
        let tracing: (any Service)?
        do {
            tracing = try TracingSetup.bootstrap(config: config, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("rlm-mcp: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let history = try HistorySetup.open(config: config, logger: logger)
        let runtime = ServerRuntime(config: config, logger: logger, recorder: history.runRecorder, prices: history.prices,
                                    history: history.recorder)
        runtime.warmUp()

        var services: [ServiceGroupConfiguration.ServiceConfiguration]
        switch config.transport {
        case .stdio:
            // The client closing stdin is the normal end of a stdio server, not a failure.
            services = [.init(service: StdioService(runtime: runtime), successTerminationBehavior: .gracefullyShutdownGroup)]
            if let port = config.metricsPort {
                services.append(.init(service: MetricsListener.service(config: config, port: port, logger: logger) { port in
                    logger.notice("metrics on http://127.0.0.1:\(port)/metrics")
                }))
            }
        case .streamableHTTP, .sse:
            let path = config.transport == .sse ? "/sse" : "/mcp"
            let http = HTTPApplication(runtime: runtime) { port in
                let shownHost = config.host.contains(":") ? "[\(config.host)]" : config.host
                logger.notice("rlm-mcp \(RLMVersion.current) listening on http://\(shownHost):\(port)\(path)")
            }
            // Reverse order on shutdown: housekeeping closes the sessions first, so the HTTP server's graceful stop
            // does not wait on event streams that would never end.
            services = [.init(service: http.application), .init(service: http.housekeeping)]
        }
        // First in the group, so last to stop: the spans of the final requests are still exported.
        if let tracing { services.insert(.init(service: tracing), at: 0) }
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        do {
            try await group.run()
        } catch {
            await runtime.shutdown()
            await history.close()
            throw error
        }
        await runtime.shutdown()
        await history.close()
    }
}
