import Testing
@testable import Telemetry

/// The metric names, labels and values a scrape shows, recorded through a private exposition (not the global one).
@Suite struct RLMMetricsTests {
    let exposition = MetricsExposition()
    var metrics: RLMMetrics { RLMMetrics(factory: exposition.factory) }

    /// The value of the sample whose line starts with `series ` (name and labels exactly as rendered).
    func value(_ series: String) -> Double? {
        exposition.render().split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func toolCallsCountByToolAndOutcomeAndTimeInSeconds() {
        metrics.toolCall(tool: "rlm_execute", outcome: .succeeded, duration: .milliseconds(1500))
        metrics.toolCall(tool: "rlm_execute", outcome: .succeeded, duration: .milliseconds(500))
        metrics.toolCall(tool: "rlm_execute", outcome: .cancelled, duration: .milliseconds(10))
        #expect(value(#"rlm_tool_calls_total{tool="rlm_execute",outcome="succeeded"}"#) == 2)
        #expect(value(#"rlm_tool_calls_total{tool="rlm_execute",outcome="cancelled"}"#) == 1)
        #expect(value(#"rlm_tool_call_duration_seconds_count{tool="rlm_execute"}"#) == 3)
        #expect(value(#"rlm_tool_call_duration_seconds_sum{tool="rlm_execute"}"#) == 2.01)
        // The long-call buckets apply: 1.5 s falls under 2.5 s, not into a bucket capped at 10 s by default.
        #expect(value(#"rlm_tool_call_duration_seconds_bucket{tool="rlm_execute",le="1.0"}"#) == 2)
        #expect(value(#"rlm_tool_call_duration_seconds_bucket{tool="rlm_execute",le="2.5"}"#) == 3)
    }

    @Test func modelRequestsCountTokensByDirectionAndCostOnlyWhenPriced() {
        metrics.llmRequest(provider: "openai", model: "openai/gpt-4o", outcome: "ok", duration: .seconds(2),
                           inputTokens: 1200, outputTokens: 300, costUSD: 0.006)
        metrics.llmRequest(provider: "openai", model: "local-model", outcome: "ok", duration: .seconds(1),
                           inputTokens: 10, outputTokens: 0, costUSD: nil)
        metrics.llmRetry(provider: "openai", reason: "http_429")
        #expect(value(#"rlm_llm_requests_total{provider="openai",model="openai/gpt-4o",outcome="ok"}"#) == 1)
        #expect(value(#"rlm_llm_tokens_total{model="openai/gpt-4o",direction="input"}"#) == 1200)
        #expect(value(#"rlm_llm_tokens_total{model="openai/gpt-4o",direction="output"}"#) == 300)
        #expect(value(#"rlm_llm_cost_usd_total{model="openai/gpt-4o"}"#) == 0.006)
        #expect(value(#"rlm_llm_cost_usd_total{model="local-model"}"#) == nil)
        #expect(value(#"rlm_llm_retries_total{provider="openai",reason="http_429"}"#) == 1)
    }

    @Test func gaugesFollowOpenAndCloseAndRunsRecordIterations() {
        metrics.sessionsOpen(era: .handshake, delta: 1)
        metrics.sessionsOpen(era: .handshake, delta: 1)
        metrics.sessionsOpen(era: .handshake, delta: -1)
        metrics.workspacesOpen(delta: 3)
        metrics.sandboxWorkers(backend: "local", delta: 2)
        metrics.run(tool: "rlm_execute", status: "submitted", duration: .seconds(3), iterations: 4)
        #expect(value(#"rlm_sessions_open{era="handshake"}"#) == 1)
        #expect(value(#"rlm_workspaces_open"#) == 3)
        #expect(value(#"rlm_sandbox_workers{backend="local"}"#) == 2)
        #expect(value(#"rlm_runs_total{tool="rlm_execute",status="submitted"}"#) == 1)
        #expect(value(#"rlm_run_iterations_sum{tool="rlm_execute"}"#) == 4)
        #expect(value(#"rlm_run_iterations_bucket{tool="rlm_execute",le="3.0"}"#) == 0)
        #expect(value(#"rlm_run_iterations_bucket{tool="rlm_execute",le="5.0"}"#) == 1)
    }

    @Test func processSeriesAreReadFromProc() throws {
        let resident = try #require(value("process_resident_memory_bytes"))
        #expect(resident > 1_000_000)
        #expect(try #require(value("process_open_fds")) >= 3)
        #expect(try #require(value("process_cpu_seconds_total")) > 0)
        #expect(exposition.render().contains("# TYPE process_cpu_seconds_total counter"))
    }

    @Test func clientChosenModelNamesCannotMintUnboundedSeries() {
        let bounded = RLMMetrics(factory: exposition.factory, modelLimit: 2)
        for model in ["a", "b", "c", "d", "a"] {
            bounded.llmRequest(provider: "openai", model: model, outcome: "ok", duration: .seconds(1), inputTokens: 1, outputTokens: 1, costUSD: nil)
        }
        #expect(value(#"rlm_llm_requests_total{provider="openai",model="a",outcome="ok"}"#) == 2)
        #expect(value(#"rlm_llm_requests_total{provider="openai",model="b",outcome="ok"}"#) == 1)
        #expect(value(#"rlm_llm_requests_total{provider="openai",model="other",outcome="ok"}"#) == 2)
        #expect(value(#"rlm_llm_tokens_total{model="c",direction="input"}"#) == nil)
    }
}
