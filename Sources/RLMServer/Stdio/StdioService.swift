import Logging
import MCP
import ServiceLifecycle

/// Serves one MCP session over stdin/stdout until the client closes stdin or the process is asked to stop.
public struct StdioService: Service {
    let runtime: ServerRuntime

    public init(runtime: ServerRuntime) { self.runtime = runtime }

    public func run() async throws {
        let session = await MCPSession.make(runtime: runtime, id: "stdio")
        let server = session.server
        try await server.start(transport: StdioLineTransport(logger: runtime.logger))
        runtime.logger.info("serving MCP over stdio")
        await withGracefulShutdownHandler {
            await server.waitUntilCompleted()
        } onGracefulShutdown: {
            Task { await server.stop() }
        }
        await session.close(runtime: runtime)
        runtime.logger.info("stdio session ended")
    }
}
