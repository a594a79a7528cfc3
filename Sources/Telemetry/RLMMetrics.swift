import CoreMetrics
import RLMCommon

/// Every metric the server records, by name and labels in one place, through swift-metrics (a no-op until
/// `MetricsExposition.bootstrap()` installs the Prometheus backend).
public struct RLMMetrics: Sendable {
    let factory: any MetricsFactory
    private let models: BoundedLabels

    /// Records into `factory`; tests pass their own, the server uses the process-wide one. At most `modelLimit`
    /// distinct `model` label values are kept (clients may name any model); later new ones are counted as `other`.
    public init(factory: any MetricsFactory, modelLimit: Int = 64) {
        self.factory = factory
        self.models = BoundedLabels(limit: modelLimit)
    }

    private init(factory: any MetricsFactory, models: BoundedLabels) {
        self.factory = factory
        self.models = models
    }

    private static let globalModels = BoundedLabels(limit: 64)

    /// The process-wide metrics (swift-metrics' bootstrapped factory; no-op before bootstrap).
    public static var global: RLMMetrics { RLMMetrics(factory: MetricsSystem.factory, models: globalModels) }

    /// How a tool call ended; `failed` covers `isError` results (bad arguments included) and protocol errors.
    public enum ToolOutcome: String, Sendable { case succeeded, failed, cancelled }

    /// The MCP protocol generation a session belongs to. Only handshake-era protocols (2024-11-05 … 2025-11-25)
    /// have sessions: a 2026-07-28 request stands alone, so that era has no `rlm_sessions_open` series (it read 0
    /// forever); its load shows in `rlm_tool_calls_total` and its sandboxes in `rlm_workspaces_open`.
    public enum Era: String, Sendable {
        case handshake
    }

    // MARK: - MCP

    /// One `tools/call` ended (any era, any transport).
    public func toolCall(tool: String, outcome: ToolOutcome, duration: Duration) {
        Counter(label: "rlm_tool_calls_total", dimensions: [("tool", tool), ("outcome", outcome.rawValue)], factory: factory).increment()
        timer("rlm_tool_call_duration_seconds", [("tool", tool)]).recordNanoseconds(duration.nanoseconds)
    }

    /// A session opened (+1) or closed (-1).
    public func sessionsOpen(era: Era, delta: Int) {
        Meter(label: "rlm_sessions_open", dimensions: [("era", era.rawValue)], factory: factory).increment(by: Double(delta))
    }

    /// One HTTP request answered; `route` is the matched route pattern (never the raw path, which a client chooses).
    public func httpRequest(route: String, status: Int) {
        Counter(label: "rlm_http_requests_total", dimensions: [("route", route), ("status", String(status))], factory: factory).increment()
    }

    // MARK: - RLM runs

    /// One RLM run ended with `status` (submitted, fallback, budget_exceeded, error, cancelled …).
    public func run(tool: String, status: String, duration: Duration, iterations: Int) {
        Counter(label: "rlm_runs_total", dimensions: [("tool", tool), ("status", status)], factory: factory).increment()
        timer("rlm_run_duration_seconds", [("tool", tool)]).recordNanoseconds(duration.nanoseconds)
        Recorder(label: "rlm_run_iterations", dimensions: [("tool", tool)], aggregate: true, factory: factory).record(iterations)
    }

    // MARK: - Language models

    /// One model request ended (after its retries). `outcome` is `ok` or the error kind; `costUSD` only when the
    /// model's price is known.
    public func llmRequest(provider: String, model: String, outcome: String, duration: Duration,
                           inputTokens: Int, outputTokens: Int, costUSD: Double?) {
        let model = models.label(model)
        Counter(label: "rlm_llm_requests_total", dimensions: [("provider", provider), ("model", model), ("outcome", outcome)], factory: factory).increment()
        timer("rlm_llm_request_duration_seconds", [("provider", provider), ("model", model)]).recordNanoseconds(duration.nanoseconds)
        if inputTokens > 0 {
            Counter(label: "rlm_llm_tokens_total", dimensions: [("model", model), ("direction", "input")], factory: factory).increment(by: inputTokens)
        }
        if outputTokens > 0 {
            Counter(label: "rlm_llm_tokens_total", dimensions: [("model", model), ("direction", "output")], factory: factory).increment(by: outputTokens)
        }
        if let costUSD, costUSD > 0 {
            FloatingPointCounter(label: "rlm_llm_cost_usd_total", dimensions: [("model", model)], factory: factory).increment(by: costUSD)
        }
    }

    /// A model request is about to be retried; `reason` is `http_<status>` or `transport`.
    public func llmRetry(provider: String, reason: String) {
        Counter(label: "rlm_llm_retries_total", dimensions: [("provider", provider), ("reason", reason)], factory: factory).increment()
    }

    // MARK: - Sandboxes and workspaces

    /// A sandbox worker process (or remote sandbox) started (+1) or ended (-1).
    public func sandboxWorkers(backend: String, delta: Int) {
        Meter(label: "rlm_sandbox_workers", dimensions: [("backend", backend)], factory: factory).increment(by: Double(delta))
    }

    /// One code execution in a sandbox finished.
    public func sandboxExec(backend: String, duration: Duration) {
        timer("rlm_sandbox_exec_duration_seconds", [("backend", backend)]).recordNanoseconds(duration.nanoseconds)
    }

    /// A workspace was created (+1) or deleted (-1).
    public func workspacesOpen(delta: Int) {
        Meter(label: "rlm_workspaces_open", dimensions: [], factory: factory).increment(by: Double(delta))
    }

    private func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        Timer(label: label, dimensions: dimensions, factory: factory)
    }
}
