import Foundation
import Logging
import OTel
import RLMConfig
import ServiceLifecycle
import Telemetry

/// Turns on OpenTelemetry tracing when an OTLP endpoint is configured: a tracer for `InstrumentationSystem` and the
/// service that batches and exports its spans over OTLP/HTTP. Without an endpoint nothing is bootstrapped, no
/// exporter runs, and every span call is the tracing API's no-op.
enum TracingSetup {
    /// Why tracing could not start; the message names the variable to change.
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// The exporter's service to run beside the server, or nil when tracing is off. Reads the standard `OTEL_*`
    /// variables (endpoint, headers, service name, sampler) from the environment and the `--env-file`s, as the
    /// server's own variables.
    static func bootstrap(config: RLMConfig, logger: Logger) throws(SetupError) -> (any Service)? {
        let environment = config.openTelemetryVariables
        TraceContent.configure(recordPromptsAndOutputs: config.traceContent)
        let endpoint = ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"].contains { environment[$0]?.isEmpty == false }
        guard endpoint, environment["OTEL_SDK_DISABLED"]?.lowercased() != "true" else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "rlm-mcp"
        // Metrics stay with Prometheus (`/metrics`) and logs with stderr: only traces go to the collector.
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        // Its own log lines go where ours go: in stdio mode stdout carries only the protocol.
        configuration.diagnosticLogger = .custom(logger)
        var variables = environment
        // OTEL_SDK_DISABLED=false would switch the OTel metrics and logs back on, over the Prometheus backend.
        variables["OTEL_SDK_DISABLED"] = nil
        if let chosen = variables["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ?? variables["OTEL_EXPORTER_OTLP_PROTOCOL"], chosen != "http/protobuf" {
            throw SetupError(description: "OTEL_EXPORTER_OTLP_PROTOCOL is \(chosen): rlm-mcp exports traces over OTLP/HTTP only; "
                + "set it to http/protobuf or unset it (an OpenTelemetry Collector accepts OTLP/HTTP on port 4318)")
        }
        do {
            let service = try OTel.bootstrap(configuration: configuration, environment: variables)
            logger.notice("tracing: exporting spans over OTLP/HTTP")
            return service
        } catch {
            throw SetupError(description: "tracing could not start from the OTEL_* variables: \(error)")
        }
    }
}
