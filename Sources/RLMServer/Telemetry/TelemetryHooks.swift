import RLMEngine
import Telemetry

/// The few calls the MCP layer makes into telemetry, kept together so that a new protocol core needs only these:
/// `toolCall` around every `tools/call`, `sessionOpened` / `sessionClosed` around every session.
enum TelemetryHooks {
    /// Runs one `tools/call` and records its count, outcome and duration. Names that are not tools are counted as
    /// `unknown`: the label must not take whatever string a client sends.
    static func toolCall(_ name: String, registry: ToolRegistry,
                         _ operation: () async throws -> ToolResult) async throws -> ToolResult {
        let tool = registry.tool(named: name) == nil ? "unknown" : name
        let started = ContinuousClock.now
        do {
            let result = try await operation()
            RLMMetrics.global.toolCall(tool: tool, outcome: result.isError ? .failed : .succeeded, duration: .now - started)
            return result
        } catch is CancellationError {
            RLMMetrics.global.toolCall(tool: tool, outcome: .cancelled, duration: .now - started)
            throw CancellationError()
        } catch {
            RLMMetrics.global.toolCall(tool: tool, outcome: .failed, duration: .now - started)
            throw error
        }
    }

    /// Runs one MCP request (any method, either era) in its span, named and attributed per the OpenTelemetry MCP
    /// conventions and continuing the caller's trace when `request.traceparent` (from `_meta`) is set. `failed`
    /// tells a result that reports an error (a tool's `isError`) from a success.
    static func request<T>(_ request: MCPRequestTrace, failed: (T) -> Bool = { _ in false }, isolation: isolated (any Actor)? = #isolation,
                           _ operation: () async throws -> T) async throws -> T {
        try await RLMTrace.mcpRequest(request) { span in
            let result = try await operation()
            if failed(result) { span.toolFailed() }
            return result
        }
    }

    static func sessionOpened(era: RLMMetrics.Era) { RLMMetrics.global.sessionsOpen(era: era, delta: 1) }

    static func sessionClosed(era: RLMMetrics.Era) { RLMMetrics.global.sessionsOpen(era: era, delta: -1) }
}

/// What a finished RLM run reports to `rlm_runs_total` and `rlm_run_iterations`.
protocol RunSummary {
    var summaryStatus: String { get }
    var summaryIterations: Int { get }
}

extension RunResult: RunSummary {
    var summaryStatus: String { status.rawValue }
    var summaryIterations: Int { iterations }
}

extension CodeResult: RunSummary {
    var summaryStatus: String { run.status.rawValue }
    var summaryIterations: Int { run.iterations }
}

extension DecomposeResult: RunSummary {
    var summaryStatus: String { status.rawValue }
    /// The subtasks' root iterations together: what the run cost in root-model turns.
    var summaryIterations: Int { subtasks.reduce(0) { $0 + $1.iterations } }
}
