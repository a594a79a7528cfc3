import Hummingbird
import Logging
import RLMConfig
import ServiceLifecycle

/// The loopback-only `/metrics` listener a stdio server opens on `RLM_METRICS_PORT` (stdio has no HTTP server to
/// carry the route). It applies the same access policy as the HTTP transports: loopback Host names, and the bearer
/// token when `MCP_AUTH_TOKEN` is set.
public enum MetricsListener {
    public static func service(config: RLMConfig, port: Int, logger: Logger,
                               onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> any Service {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: HTTPRequestMetricsMiddleware())
        router.add(middleware: AccessGuardMiddleware(policy: AccessPolicy(
            allowedOrigins: config.allowedOrigins, allowedHosts: HostName.loopbackNames, token: config.authToken)))
        MetricsEndpoint.mount(on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) },
            logger: logger
        )
    }
}
