import Foundation
import Hummingbird
import Logging
import RLMConfig

/// `rlm-mcp runs serve`: the viewer alone (no MCP endpoint) on 127.0.0.1, for people who use the stdio server.
public enum ViewerServer {
    /// Serves until the task is cancelled or the process is signalled; `onListening` receives the bound port.
    public static func run(config: RLMConfig, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let viewer = try RunViewer(config: config)
        let router = Router(context: BasicRequestContext.self)
        let accessGuard = LoopbackGuardMiddleware<BasicRequestContext>(token: config.authToken)
        viewer.mount(on: router, guardedBy: accessGuard)
        router.add(middleware: accessGuard)
        router.get("/") { _, _ in ViewerResponse.redirect(to: "/runs") }
        let application = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
        try await application.runService()
    }
}
