import CoreMetrics
import Prometheus

/// The Prometheus backend of `RLMMetrics`: a registry, the factory that feeds it, and the text a `/metrics` scrape
/// returns (the registry's series plus the process' own).
public final class MetricsExposition: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory
    private let process: ProcessMetrics

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Model calls and runs last seconds to minutes; the default buckets stop at 10 s.
        let long: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600)]
        factory.durationHistogramBuckets = [
            "rlm_tool_call_duration_seconds": long,
            "rlm_run_duration_seconds": long,
            "rlm_llm_request_duration_seconds": long,
            // Code blocks are mostly quick, but may run until their timeout.
            "rlm_sandbox_exec_duration_seconds": factory.defaultDurationHistogramBuckets + [.seconds(30), .seconds(60), .seconds(120), .seconds(300)],
        ]
        factory.valueHistogramBuckets = ["rlm_run_iterations": [1, 2, 3, 5, 8, 13, 20, 30, 50, 100, 200]]
        self.factory = factory
        process = ProcessMetrics()
    }

    /// The exposition every server process uses; `bootstrap()` makes it swift-metrics' backend.
    public static let shared = MetricsExposition()

    /// Installs the shared exposition as the process' metrics backend (once; later calls do nothing) and registers the
    /// gauges that should read 0 before anything happened.
    public static func bootstrap() {
        bootstrapOnce
    }

    private static let bootstrapOnce: Void = {
        MetricsSystem.bootstrap(shared.factory)
        let metrics = RLMMetrics(factory: shared.factory)
        metrics.sessionsOpen(era: .handshake, delta: 0)
        metrics.workspacesOpen(delta: 0)
    }()

    /// The Prometheus text exposition (format 0.0.4) of everything recorded so far.
    public func render() -> String {
        var text = registry.emitToString()
        text += process.render()
        return text
    }

    /// The `Content-Type` of `render()`.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
