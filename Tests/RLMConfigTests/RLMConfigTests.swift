import Testing
@testable import RLMConfig

@Suite struct RLMConfigTests {
    private func config(_ layers: [String: String]...) throws(ConfigError) -> RLMConfig {
        try RLMConfig(variables: LayeredVariables(layers: layers.enumerated().map { .init(name: "layer\($0.offset)", values: $0.element) }))
    }

    @Test func defaultsMatchTheDesign() throws {
        let config = try config([:])
        #expect(config.transport == .stdio)
        #expect(config.host == "127.0.0.1" && config.port == 8000)
        #expect(config.model == "openai/gpt-4o" && config.subtaskModel == "openai/gpt-4o-mini")
        #expect(config.maxIterations == 15 && config.maxDepth == 1 && config.subConcurrency == 16)
        #expect(config.sandbox == .auto && config.sandboxBackend == .local)
        #expect(config.sandboxMemoryMB == 2048 && config.workspaceIdleSeconds == 900)
        #expect(config.openAIBaseURL == "https://api.openai.com/v1" && config.anthropicBaseURL == "https://api.anthropic.com")
        #expect(config.daytonaAPIURL == "https://app.daytona.io/api" && config.daytonaTarget == .us)
        #expect(config.allowedOrigins == nil && config.authToken == nil)
        #expect(config.logLevel == .info)
    }

    @Test func earlierLayersWinAndSourcesAreRecorded() throws {
        let config = try config(["MCP_PORT": "1"], ["MCP_PORT": "2", "RLM_MAX_DEPTH": "3"], ["RLM_MAX_DEPTH": "4", "RLM_MODEL": "m"])
        #expect(config.port == 1 && config.maxDepth == 3 && config.model == "m")
        #expect(config.sources["MCP_PORT"] == "layer0")
        #expect(config.sources["RLM_MAX_DEPTH"] == "layer1")
        #expect(config.sources["RLM_MODEL"] == "layer2")
        #expect(config.sources["RLM_MAX_ITERATIONS"] == nil)
    }

    @Test func everyVariableReadIsListedOnceAndShownByStatus() throws {
        let names = RLMConfig.variableNames
        #expect(names.count == Set(names).count)
        #expect(names.contains("MCP_MAX_BODY_MB") && names.contains("RLM_SANDBOX_UNSAFE") && names.contains("RLM_DIAGNOSTIC_TOOLS"))
        // `rlm-mcp status` must show every variable, or a value in force would be invisible.
        #expect(Set(try config([:]).summary.map(\.variable)) == Set(names))
    }

    @Test func openTelemetryVariablesComeFromEveryLayerWithTheSamePrecedence() throws {
        let config = try config(["OTEL_SERVICE_NAME": "from-flags", "OTEL_TRACES_SAMPLER": ""],
                                ["OTEL_SERVICE_NAME": "from-env", "OTEL_TRACES_SAMPLER": "always_off", "RLM_MODEL": "openai/x"],
                                ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"])
        #expect(config.openTelemetryVariables == ["OTEL_SERVICE_NAME": "from-flags", "OTEL_TRACES_SAMPLER": "always_off",
                                                  "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"])
    }

    @Test func anEmptyValueFallsThroughToTheNextLayer() throws {
        #expect(try config(["MCP_PORT": ""], ["MCP_PORT": "9000"]).port == 9000)
    }

    @Test(arguments: [
        (["MCP_TRANSPORT": "foo"], #"MCP_TRANSPORT must be one of stdio, streamable-http, sse (got "foo")"#),
        (["MCP_PORT": "http"], #"MCP_PORT must be an integer from 0 to 65535 (got "http")"#),
        (["RLM_MAX_DEPTH": "11"], #"RLM_MAX_DEPTH must be an integer from 0 to 10 (got "11")"#),
        (["RLM_SUB_CONCURRENCY": "0"], #"RLM_SUB_CONCURRENCY must be an integer from 1 to 1024 (got "0")"#),
        (["DAYTONA_TARGET": "mars"], #"DAYTONA_TARGET must be one of us, eu, asia (got "mars")"#),
        (["ANTHROPIC_BASE_URL": "ftp://x"], #"ANTHROPIC_BASE_URL must be an absolute http:// or https:// URL (got "ftp://x")"#),
        (["RLM_DIAGNOSTIC_TOOLS": "maybe"], #"RLM_DIAGNOSTIC_TOOLS must be one of 1, 0, true, false (got "maybe")"#),
        (["MCP_ALLOWED_ORIGINS": "example.com"], "MCP_ALLOWED_ORIGINS must be a comma-separated list of origins"),
        (["RLM_MODEL": "gpt 4o"], "RLM_MODEL must be a model id"),
        (["MCP_HOST": "local host"], "MCP_HOST must be a host name or IP address"),
        (["RLM_COMPACTION_THRESHOLD": "85"], "RLM_COMPACTION_THRESHOLD must be a fraction between 0.1 and 0.95, e.g. 0.85 (for 85 % write 0.85)"),
        (["RLM_COMPACTION_THRESHOLD": "most"], "RLM_COMPACTION_THRESHOLD must be a fraction between 0.1 and 0.95"),
        (["RLM_ROOT_CONTEXT_TOKENS": "1000"], "RLM_ROOT_CONTEXT_TOKENS must be 0 (by model name) or at least 2048 tokens"),
    ])
    func invalidValuesNameTheVariable(values: [String: String], message: String) {
        do {
            _ = try config(values)
            Issue.record("accepted \(values)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }

    @Test func theRootWindowAndCompactionThresholdAreRead() throws {
        let defaults = try config([:])
        #expect(defaults.rootContextTokens == nil && defaults.compactionThreshold == 0.85)
        let set = try config(["RLM_ROOT_CONTEXT_TOKENS": "12000", "RLM_COMPACTION_THRESHOLD": "0.7"])
        #expect(set.rootContextTokens == 12_000 && set.compactionThreshold == 0.7)
    }

    @Test func choicesAreCaseInsensitive() throws {
        #expect(try config(["MCP_TRANSPORT": "SSE", "RLM_LOG_LEVEL": "Debug"]).transport == .sse)
    }

    @Test func autoSandboxPicksDaytonaExactlyWhenAKeyIsSet() throws {
        #expect(try config(["DAYTONA_API_KEY": "k"]).sandboxBackend == .daytona)
        #expect(try config(["DAYTONA_API_KEY": "k", "RLM_SANDBOX": "local"]).sandboxBackend == .local)
        #expect(try config(["RLM_SANDBOX": "daytona"]).sandboxBackend == .daytona)
    }

    @Test func originsAreNormalised() throws {
        #expect(try config(["MCP_ALLOWED_ORIGINS": "https://a.example/, http://b.example:8080 ,*"]).allowedOrigins
            == ["https://a.example", "http://b.example:8080", "*"])
    }

    @Test func baseURLsLoseTheirTrailingSlash() throws {
        #expect(try config(["OPENAI_BASE_URL": "http://127.0.0.1:11434/v1/"]).openAIBaseURL == "http://127.0.0.1:11434/v1")
    }

    @Test func nonLoopbackHTTPNeedsATokenOrAnExplicitOptOut() throws {
        let open = try config(["MCP_TRANSPORT": "streamable-http", "MCP_HOST": "0.0.0.0"])
        #expect(throws: ConfigError.unsafeBind(host: "0.0.0.0")) { try open.checkBindSafety(allowUnauthenticated: false) }
        try open.checkBindSafety(allowUnauthenticated: true)
        try config(["MCP_TRANSPORT": "sse", "MCP_HOST": "0.0.0.0", "MCP_AUTH_TOKEN": "t"]).checkBindSafety(allowUnauthenticated: false)
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] {
            try config(["MCP_TRANSPORT": "streamable-http", "MCP_HOST": host]).checkBindSafety(allowUnauthenticated: false)
        }
        try config(["MCP_HOST": "0.0.0.0"]).checkBindSafety(allowUnauthenticated: false)  // stdio listens nowhere
    }

    @Test func secretsNeverPrintTheirValue() throws {
        let config = try config(["OPENAI_API_KEY": "sk-secret-value", "MCP_AUTH_TOKEN": "tok-secret"])
        #expect(!"\(config.openAIAPIKey!)".contains("sk-secret"))
        #expect(!String(reflecting: config.authToken!).contains("tok-secret"))
        #expect(!"\(config)".contains("sk-secret") && !String(reflecting: config).contains("tok-secret"))
        let summary = config.summary.map { "\($0.variable)=\($0.value)" }.joined(separator: "\n")
        #expect(!summary.contains("sk-secret") && !summary.contains("tok-secret"))
        #expect(summary.contains("OPENAI_API_KEY=set (hidden)"))
    }
}
