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
        let transport = StdioLineTransport(logger: runtime.logger)
        // 2026-07-28 requests are served statelessly beside the handshake-era session, on the same registry.
        let router = ModernStdioRouter(dispatcher: ModernDispatcher(runtime: runtime)) { [weak transport] data in
            try? await transport?.send(data)
        }
        await transport.setDivert { line in await router.take(line) }
        try await server.start(transport: transport)
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
