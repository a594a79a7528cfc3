/// A printable view of the resolved configuration with every secret masked, for `rlm-mcp status`.
extension RLMConfig {
    public struct SummaryEntry: Sendable, Equatable {
        public let variable: String
        public let value: String
        /// "default", "flag", "environment", ".env.local" or ".env".
        public let source: String
    }

    public var summary: [SummaryEntry] {
        let rows: [(String, String)] = [
            ("MCP_TRANSPORT", transport.rawValue),
            ("MCP_HOST", host),
            ("MCP_PORT", String(port)),
            ("MCP_AUTH_TOKEN", mask(authToken)),
            ("MCP_ALLOWED_ORIGINS", allowedOrigins?.joined(separator: ",") ?? "localhost origins"),
            ("MCP_ALLOWED_HOSTS", allowedHosts?.joined(separator: ",") ?? "from MCP_HOST"),
            ("MCP_MAX_BODY_MB", String(maxRequestBodyMB)),
            ("MCP_SSE_REPLAY_EVENTS", String(sseReplayEvents)),
            ("MCP_SSE_REPLAY_KB", String(sseReplayKB)),
            ("RLM_LOG_LEVEL", logLevel.rawValue),
            ("RLM_MODEL", model),
            ("RLM_SUBTASK_MODEL", subtaskModel),
            ("RLM_MAX_ITERATIONS", String(maxIterations)),
            ("RLM_MAX_DEPTH", String(maxDepth)),
            ("RLM_SUB_CONCURRENCY", String(subConcurrency)),
            ("RLM_MAX_LLM_CALLS", String(maxLLMCalls)),
            ("RLM_MAX_TOTAL_TOKENS", maxTotalTokens.map(String.init) ?? "0 (no limit)"),
            ("RLM_TIMEOUT_S", String(runTimeoutSeconds)),
            ("RLM_SUB_CONTEXT_TOKENS", subContextTokens.map(String.init) ?? "0 (by model name)"),
            ("RLM_ROOT_CONTEXT_TOKENS", rootContextTokens.map(String.init) ?? "0 (by model name)"),
            ("RLM_COMPACTION_THRESHOLD", String(compactionThreshold)),
            ("RLM_SANDBOX", sandbox.rawValue),
            ("RLM_SANDBOX_NETWORK", Self.describe(sandboxNetwork)),
            ("RLM_PYTHON", python ?? "first python3 on PATH"),
            ("RLM_SANDBOX_MEMORY_MB", String(sandboxMemoryMB)),
            ("RLM_SANDBOX_TOTAL_MEMORY_MB", String(sandboxTotalMemoryMB)),
            ("RLM_SANDBOX_TMP_MB", String(sandboxTmpMB)),
            ("RLM_SANDBOX_DISK_MB", String(sandboxDiskMB)),
            ("RLM_MAX_WORKERS", String(maxWorkers)),
            ("RLM_MAX_WORKSPACE_WORKERS", String(maxWorkspaceWorkers)),
            ("RLM_SANDBOX_ISOLATION", sandboxIsolation?.rawValue ?? "auto"),
            ("RLM_SANDBOX_UNSAFE", sandboxUnsafe ? "1" : "0"),
            ("RLM_WORKSPACE_IDLE_S", String(workspaceIdleSeconds)),
            ("RLM_MAX_WORKSPACES", String(maxWorkspaces)),
            ("RLM_WORKSPACE_KEY", workspaceKey == nil ? "random per process" : mask(workspaceKey)),
            ("OPENAI_API_KEY", mask(openAIAPIKey)),
            ("OPENAI_BASE_URL", openAIBaseURL),
            ("ANTHROPIC_API_KEY", mask(anthropicAPIKey)),
            ("ANTHROPIC_BASE_URL", anthropicBaseURL),
            ("DAYTONA_API_KEY", mask(daytonaAPIKey)),
            ("DAYTONA_API_URL", daytonaAPIURL),
            ("DAYTONA_TARGET", daytonaTarget.rawValue),
            ("DAYTONA_SNAPSHOT", daytonaSnapshot ?? "server default"),
            ("RLM_DIAGNOSTIC_TOOLS", diagnosticTools ? "1" : "0"),
            ("RLM_METRICS_PORT", metricsPort.map(String.init) ?? "none (stdio: no metrics listener)"),
            ("RLM_TRACE_CONTENT", traceContent ? "1 (spans carry prompts and outputs)" : "0"),
            ("RLM_HISTORY", historyEnabled ? "on" : "off"),
            ("RLM_DATA_DIR", dataDirectory ?? "$XDG_DATA_HOME/rlm-mcp, else ~/.local/share/rlm-mcp"),
            ("RLM_HISTORY_DAYS", String(historyDays)),
            ("RLM_HISTORY_CONTEXT", historyContext ? "1" : "0"),
            ("RLM_DATABASE_URL", databaseURL == nil ? "not set (history.sqlite)" : "set (hidden)"),
            ("RLM_PRICES_FILE", pricesFile ?? "built-in prices"),
            ("RLM_MAX_COST_USD", maxCostUSD.map { String($0) } ?? "0 (no limit)"),
        ]
        return rows.map { SummaryEntry(variable: $0.0, value: $0.1, source: sources[$0.0] ?? "default") }
    }

    private func mask(_ secret: Secret?) -> String { secret == nil ? "not set" : "set (hidden)" }

    private static func describe(_ network: SandboxNetwork) -> String {
        switch network {
        case .block: "block"
        case .allow: "allow"
        case let .allowList(cidrs): cidrs.joined(separator: ",")
        }
    }
}
