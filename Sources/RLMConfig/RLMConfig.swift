import Foundation
import RLMCommon

/// The server's whole configuration, resolved and validated once at start-up (DESIGN §5).
public struct RLMConfig: Sendable {
    public enum Transport: String, Sendable, CaseIterable {
        case stdio
        case streamableHTTP = "streamable-http"
        case sse
    }

    public enum SandboxChoice: String, Sendable, CaseIterable {
        case auto, daytona, local
    }

    public enum SandboxBackend: String, Sendable {
        case daytona, local
    }

    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, warning, error
    }

    public enum DaytonaTarget: String, Sendable, CaseIterable {
        case us, eu, asia
    }

    /// Network access of Daytona sandboxes (local sandboxes never have any).
    public enum SandboxNetwork: Sendable, Equatable {
        case block
        case allow
        case allowList([String])
    }

    // Daytona
    public var daytonaAPIKey: Secret?
    public var daytonaAPIURL: String
    public var daytonaTarget: DaytonaTarget
    public var daytonaSnapshot: String?
    // Language models
    public var openAIAPIKey: Secret?
    public var openAIBaseURL: String
    public var anthropicAPIKey: Secret?
    public var anthropicBaseURL: String
    public var model: String
    public var subtaskModel: String
    // RLM loop
    public var maxIterations: Int
    public var maxDepth: Int
    public var subConcurrency: Int
    /// Model calls one RLM run (and its child runs) may make, sub-calls included.
    public var maxLLMCalls: Int
    /// Tokens one RLM run may use in total; nil: no token budget.
    public var maxTotalTokens: Int?
    /// Wall-clock budget of one RLM run, in seconds.
    public var runTimeoutSeconds: Int
    /// The sub model's context window in tokens; nil: known by model name (128k for unknown models).
    public var subContextTokens: Int?
    /// The root model's context window in tokens; nil: known by model name (128k for unknown models).
    public var rootContextTokens: Int?
    /// The share of the root window a request may fill before older iterations are compacted (0.1–0.95).
    public var compactionThreshold: Double
    // Sandbox
    public var sandbox: SandboxChoice
    public var python: String?
    public var sandboxMemoryMB: Int
    /// Memory of all of one local sandbox's processes and its /tmp together, where a cgroup can enforce it.
    public var sandboxTotalMemoryMB: Int
    /// Size of each local worker's private /tmp (RAM-backed).
    public var sandboxTmpMB: Int
    /// Size of each local sandbox's work dir (`RLM_SANDBOX_DISK_MB`).
    public var sandboxDiskMB: Int
    /// Live local Python workers the whole server may hold (spares included).
    public var maxWorkers: Int
    /// Named REPL namespaces (each a live worker) one workspace may hold.
    public var maxWorkspaceWorkers: Int
    /// Which local isolation to use; nil (`auto`) picks the strongest that works.
    public var sandboxIsolation: IsolationLevel?
    public var sandboxNetwork: SandboxNetwork
    /// Allows running LLM-written code without isolation when nothing else works (or when asked for with `none`).
    public var sandboxUnsafe: Bool
    public var workspaceIdleSeconds: Int
    /// Workspaces one client (bearer token, or everyone without one) keeps open.
    public var maxWorkspaces: Int
    /// Signs workspace handles; replicas that share it accept each other's handles. Nil: a random key per process.
    public var workspaceKey: Secret?
    // Server
    public var logLevel: LogLevel
    public var transport: Transport
    public var host: String
    public var port: Int
    public var authToken: Secret?
    /// `nil` means the default allow-list: any port on localhost, 127.0.0.1 and [::1].
    public var allowedOrigins: [String]?
    /// Host names (without port) the HTTP server answers to; `nil` derives them from `MCP_HOST` (loopback names for a
    /// loopback bind, any name for a wildcard bind). `["*"]` allows any.
    public var allowedHosts: [String]?
    public var maxRequestBodyMB: Int
    /// Events, and KB of them, each streamable-HTTP SSE stream keeps for clients resuming with `Last-Event-ID`.
    public var sseReplayEvents: Int
    public var sseReplayKB: Int
    /// Registers the diagnostic tools that the interop tests use to exercise progress and cancellation.
    public var diagnosticTools: Bool
    /// `RLM_METRICS_PORT`: a stdio server's loopback `/metrics` listener; nil opens none (0 picks a free port).
    public var metricsPort: Int?
    /// `RLM_TRACE_CONTENT=1`: spans carry prompts, model outputs and code (off: sizes and counts only).
    public var traceContent: Bool
    /// The standard `OTEL_*` variables from every layer (so `.env` files work for them too), for the OpenTelemetry
    /// SDK. `OTEL_EXPORTER_OTLP_HEADERS` may hold a collector's API key: nothing prints these.
    public var openTelemetryVariables: [String: String]
    // Run history and cost
    /// Records every run in the history (`RLM_HISTORY`, default on).
    public var historyEnabled: Bool
    /// The folder of the history database; nil: `$XDG_DATA_HOME/rlm-mcp`, else `~/.local/share/rlm-mcp`.
    public var dataDirectory: String?
    public var historyDays: Int
    /// Keeps each run's whole context in the history, not only a preview.
    public var historyContext: Bool
    /// A PostgreSQL database replicas share for run history and task state (`RLM_DATABASE_URL=postgres://…`); it may hold a password.
    public var databaseURL: Secret?
    /// A JSON file of model prices laid over the built-in ones.
    public var pricesFile: String?
    /// USD one run may spend (models with a known price); nil: no money budget.
    public var maxCostUSD: Double?

    /// Where each variable's value came from ("flag", "environment", ".env.local", ".env"); absent means the default.
    public var sources: [String: String]

    /// The backend `RLM_SANDBOX` resolves to: `auto` picks Daytona exactly when a Daytona key is configured.
    public var sandboxBackend: SandboxBackend {
        switch sandbox {
        case .daytona: .daytona
        case .local: .local
        case .auto: daytonaAPIKey == nil ? .local : .daytona
        }
    }

    /// True when the server will only accept connections from this machine.
    public var bindsToLoopback: Bool { Self.isLoopback(host: host) }

    public static func isLoopback(host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// Refuses to serve HTTP on a non-loopback address without a bearer token, unless the operator opted out.
    public func checkBindSafety(allowUnauthenticated: Bool) throws(ConfigError) {
        guard transport != .stdio, !bindsToLoopback, authToken == nil, !allowUnauthenticated else { return }
        throw .unsafeBind(host: host)
    }
}

extension RLMConfig {
    /// One live worker per 256 MB of the machine's memory, from 8 to 256: an idle worker takes 7–12 MB, a busy one
    /// up to RLM_SANDBOX_MEMORY_MB of address space, and the rest of the machine needs room too.
    static var defaultMaxWorkers: Int {
        min(256, max(8, Int(ProcessInfo.processInfo.physicalMemory / (256 * 1024 * 1024))))
    }

    /// Loads flags > environment > `envFiles` > the user's config file (see `LayeredVariables.standard`) and
    /// validates every variable.
    public static func load(
        flags: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        envFiles: [String] = []
    ) throws(ConfigError) -> RLMConfig {
        try RLMConfig(variables: LayeredVariables.standard(flags: flags, environment: environment, envFiles: envFiles))
    }

    public init(variables: LayeredVariables) throws(ConfigError) {
        try self.init(reader: VariableReader(variables: variables))
    }

    /// Every variable the configuration reads, in reading order: the one list `.env.example` and the docs are checked
    /// against, so a new variable cannot go undocumented.
    public static var variableNames: [String] {
        let reader = VariableReader(variables: LayeredVariables(layers: []))
        _ = try? RLMConfig(reader: reader)
        return reader.requested
    }

    private init(reader read: VariableReader) throws(ConfigError) {
        daytonaAPIKey = read.secret("DAYTONA_API_KEY")
        daytonaAPIURL = try read.url("DAYTONA_API_URL", default: "https://app.daytona.io/api")
        daytonaTarget = try read.choice("DAYTONA_TARGET", default: .us)
        daytonaSnapshot = read.string("DAYTONA_SNAPSHOT")
        openAIAPIKey = read.secret("OPENAI_API_KEY")
        openAIBaseURL = try read.url("OPENAI_BASE_URL", default: "https://api.openai.com/v1")
        anthropicAPIKey = read.secret("ANTHROPIC_API_KEY")
        anthropicBaseURL = try read.url("ANTHROPIC_BASE_URL", default: "https://api.anthropic.com")
        model = try read.modelID("RLM_MODEL", default: "openai/gpt-4o")
        subtaskModel = try read.modelID("RLM_SUBTASK_MODEL", default: "openai/gpt-4o-mini")
        maxIterations = try read.integer("RLM_MAX_ITERATIONS", default: RunDefaults.maxIterations, range: 1...1000)
        maxDepth = try read.integer("RLM_MAX_DEPTH", default: RunDefaults.maxDepth, range: 0...10)
        subConcurrency = try read.integer("RLM_SUB_CONCURRENCY", default: 16, range: 1...1024)
        maxLLMCalls = try read.integer("RLM_MAX_LLM_CALLS", default: RunDefaults.maxLLMCalls, range: 1...100_000)
        let tokens = try read.integer("RLM_MAX_TOTAL_TOKENS", default: 0, range: 0...1_000_000_000)
        maxTotalTokens = tokens == 0 ? nil : tokens
        runTimeoutSeconds = try read.integer("RLM_TIMEOUT_S", default: RunDefaults.timeoutSeconds, range: 1...86_400)
        let window = try read.integer("RLM_SUB_CONTEXT_TOKENS", default: 0, range: 0...100_000_000)
        subContextTokens = window == 0 ? nil : window
        let rootWindow = try read.integer("RLM_ROOT_CONTEXT_TOKENS", default: 0, range: 0...100_000_000)
        rootContextTokens = rootWindow == 0 ? nil : rootWindow
        if let rootWindow = rootContextTokens, rootWindow < 2048 {
            throw .invalidValue(variable: "RLM_ROOT_CONTEXT_TOKENS", expected: "0 (by model name) or at least 2048 tokens (the system prompt alone takes about 1,000)",
                                got: String(rootWindow))
        }
        compactionThreshold = try read.fraction("RLM_COMPACTION_THRESHOLD", default: 0.85, range: 0.1...0.95)
        sandbox = try read.choice("RLM_SANDBOX", default: .auto)
        python = read.string("RLM_PYTHON")
        sandboxMemoryMB = try read.integer("RLM_SANDBOX_MEMORY_MB", default: 2048, range: 64...1_048_576)
        sandboxTotalMemoryMB = try read.integer("RLM_SANDBOX_TOTAL_MEMORY_MB", default: 4096, range: 64...1_048_576)
        sandboxTmpMB = try read.integer("RLM_SANDBOX_TMP_MB", default: 256, range: 1...65_536)
        sandboxDiskMB = try read.integer("RLM_SANDBOX_DISK_MB", default: 1024, range: 1...1_048_576)
        maxWorkers = try read.integer("RLM_MAX_WORKERS", default: Self.defaultMaxWorkers, range: 2...4096)
        maxWorkspaceWorkers = try read.integer("RLM_MAX_WORKSPACE_WORKERS", default: 8, range: 1...1024)
        sandboxIsolation = try read.isolation("RLM_SANDBOX_ISOLATION")
        sandboxUnsafe = try read.boolean("RLM_SANDBOX_UNSAFE", default: false)
        sandboxNetwork = try read.network("RLM_SANDBOX_NETWORK")
        if sandboxIsolation == IsolationLevel.none && !sandboxUnsafe {
            throw .invalidValue(variable: "RLM_SANDBOX_ISOLATION", expected: "auto, bubblewrap or unshare unless RLM_SANDBOX_UNSAFE=1 (none runs LLM-written code unisolated)", got: "none")
        }
        workspaceIdleSeconds = try read.integer("RLM_WORKSPACE_IDLE_S", default: 900, range: 5...604_800)
        maxWorkspaces = try read.integer("RLM_MAX_WORKSPACES", default: 64, range: 1...100_000)
        workspaceKey = read.secret("RLM_WORKSPACE_KEY")
        if let key = workspaceKey, key.exposedValue.utf8.count < 32 {
            // The value itself is a secret: the message names only its length.
            throw .invalidValue(variable: "RLM_WORKSPACE_KEY", expected: "at least 32 characters (e.g. `openssl rand -hex 32`)",
                                got: "\(key.exposedValue.utf8.count) characters")
        }
        logLevel = try read.choice("RLM_LOG_LEVEL", default: .info)
        transport = try read.choice("MCP_TRANSPORT", default: .stdio)
        host = try read.host("MCP_HOST", default: "127.0.0.1")
        port = try read.integer("MCP_PORT", default: 8000, range: 0...65535)
        authToken = try read.token("MCP_AUTH_TOKEN")
        allowedOrigins = try read.origins("MCP_ALLOWED_ORIGINS")
        allowedHosts = try read.hostNames("MCP_ALLOWED_HOSTS")
        maxRequestBodyMB = try read.integer("MCP_MAX_BODY_MB", default: 16, range: 1...1024)
        sseReplayEvents = try read.integer("MCP_SSE_REPLAY_EVENTS", default: 64, range: 0...100_000)
        sseReplayKB = try read.integer("MCP_SSE_REPLAY_KB", default: 1024, range: 0...1_048_576)
        diagnosticTools = try read.boolean("RLM_DIAGNOSTIC_TOOLS", default: false)
        metricsPort = try read.optionalInteger("RLM_METRICS_PORT", range: 0...65535)
        traceContent = try read.boolean("RLM_TRACE_CONTENT", default: false)
        openTelemetryVariables = read.variables.values(named: "OTEL_")
        historyEnabled = try read.boolean("RLM_HISTORY", default: true)
        dataDirectory = try read.absolutePath("RLM_DATA_DIR")
        historyDays = try read.integer("RLM_HISTORY_DAYS", default: 30, range: 1...36_500)
        historyContext = try read.boolean("RLM_HISTORY_CONTEXT", default: false)
        databaseURL = try read.token("RLM_DATABASE_URL")
        pricesFile = try read.absolutePath("RLM_PRICES_FILE")
        maxCostUSD = try read.amount("RLM_MAX_COST_USD")
        sources = read.sources
    }
}

/// Reads and validates single variables, recording where each value came from.
private final class VariableReader {
    let variables: LayeredVariables
    private(set) var sources: [String: String] = [:]
    /// Every name asked for, set or not.
    private(set) var requested: [String] = []

    init(variables: LayeredVariables) { self.variables = variables }

    func string(_ name: String) -> String? {
        requested.append(name)
        guard let found = variables.lookup(name) else { return nil }
        sources[name] = found.source
        return found.value.trimmingCharacters(in: .whitespaces)
    }

    func secret(_ name: String) -> Secret? { string(name).map(Secret.init) }

    /// A bearer token: no whitespace or control characters, which no `Authorization` header could carry (and an
    /// all-blank token would be no protection at all).
    func token(_ name: String) throws(ConfigError) -> Secret? {
        guard let value = string(name) else { return nil }
        // Never echo the value: it is a secret, even a malformed one.
        guard !value.isEmpty else {
            throw .invalidValue(variable: name, expected: "a token (e.g. from `openssl rand -hex 32`), or unset", got: "only whitespace")
        }
        guard value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw .invalidValue(variable: name, expected: "a token without spaces or control characters", got: "a value containing some")
        }
        return Secret(value)
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, default fallback: Choice) throws(ConfigError) -> Choice
    where Choice.RawValue == String {
        guard let raw = string(name) else { return fallback }
        guard let value = Choice(rawValue: raw.lowercased()) else {
            throw .invalidChoice(variable: name, accepted: Choice.allCases.map(\.rawValue), got: raw)
        }
        return value
    }

    /// An isolation level, or nil for `auto` (the default).
    func isolation(_ name: String) throws(ConfigError) -> IsolationLevel? {
        guard let raw = string(name), raw.lowercased() != "auto" else { return nil }
        guard let level = IsolationLevel(rawValue: raw.lowercased()) else {
            throw .invalidChoice(variable: name, accepted: ["auto"] + IsolationLevel.allCases.map(\.rawValue), got: raw)
        }
        return level
    }

    func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let raw = string(name) else { return fallback }
        guard let value = Int(raw), range.contains(value) else {
            throw .invalidNumber(variable: name, range: range, got: raw)
        }
        return value
    }

    /// A decimal fraction such as 0.85 (a percentage such as 85 is refused, with the fraction it probably meant).
    func fraction(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws(ConfigError) -> Double {
        guard let raw = string(name) else { return fallback }
        guard let value = Double(raw), value.isFinite, range.contains(value) else {
            let hint = Double(raw).map { $0 > 1 && $0 <= 100 ? " (for \(raw) % write \($0 / 100))" : "" } ?? ""
            throw .invalidValue(variable: name, expected: "a fraction between \(range.lowerBound) and \(range.upperBound), e.g. 0.85\(hint)", got: raw)
        }
        return value
    }

    /// An integer that may be left unset (or empty): nil then.
    func optionalInteger(_ name: String, range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let raw = string(name), !raw.isEmpty else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw .invalidNumber(variable: name, range: range, got: raw)
        }
        return value
    }

    func boolean(_ name: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let raw = string(name) else { return fallback }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw .invalidChoice(variable: name, accepted: ["1", "0", "true", "false"], got: raw)
        }
    }

    func absolutePath(_ name: String) throws(ConfigError) -> String? {
        guard let raw = string(name), !raw.isEmpty else { return nil }
        guard raw.hasPrefix("/") else {
            throw .invalidValue(variable: name, expected: "an absolute path such as /var/lib/rlm-mcp", got: raw)
        }
        return raw
    }

    /// A positive amount of money in USD; 0 or unset means no limit.
    func amount(_ name: String) throws(ConfigError) -> Double? {
        guard let raw = string(name), !raw.isEmpty else { return nil }
        guard let value = Double(raw), value.isFinite, value >= 0 else {
            throw .invalidValue(variable: name, expected: "an amount in USD such as 0.50 (0 for no limit)", got: raw)
        }
        return value == 0 ? nil : value
    }

    func url(_ name: String, default fallback: String) throws(ConfigError) -> String {
        guard let raw = string(name) else { return fallback }
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty
        else { throw .invalidURL(variable: name, got: raw) }
        return raw.hasSuffix("/") ? String(raw.dropLast()) : raw
    }

    func host(_ name: String, default fallback: String) throws(ConfigError) -> String {
        guard let raw = string(name) else { return fallback }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-:[]"))
        guard raw.unicodeScalars.allSatisfy(allowed.contains) else {
            throw .invalidValue(variable: name, expected: "a host name or IP address such as 127.0.0.1 or 0.0.0.0", got: raw)
        }
        return raw
    }

    func modelID(_ name: String, default fallback: String) throws(ConfigError) -> String {
        guard let raw = string(name) else { return fallback }
        guard !raw.contains(where: \.isWhitespace), !raw.hasPrefix("/"), !raw.hasSuffix("/") else {
            throw .invalidValue(variable: name, expected: "a model id such as openai/gpt-4o, anthropic/claude-sonnet-4-5 or a bare model name", got: raw)
        }
        return raw
    }

    func network(_ name: String) throws(ConfigError) -> RLMConfig.SandboxNetwork {
        guard let raw = string(name) else { return .block }
        switch raw.lowercased() {
        case "block": return .block
        case "allow": return .allow
        default:
            let cidrs = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !cidrs.isEmpty, cidrs.count <= 10, cidrs.allSatisfy(Self.isIPv4CIDR) else {
                throw .invalidValue(variable: name, expected: "block, allow, or a comma-separated list of up to 10 IPv4 CIDRs such as 10.0.0.0/8,192.0.2.7/32", got: raw)
            }
            return .allowList(cidrs)
        }
    }

    private static func isIPv4CIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bits = Int(parts[1]), (0...32).contains(bits), parts[1].allSatisfy(\.isNumber) else { return false }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && Int($0)! <= 255 }
    }

    func hostNames(_ name: String) throws(ConfigError) -> [String]? {
        guard let raw = string(name) else { return nil }
        let entries = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        for entry in entries where entry != "*" {
            guard HostName.isValid(entry) else {
                throw .invalidValue(variable: name, expected: "a comma-separated list of host names without ports, such as mcp.example.com,10.0.0.5, or *", got: entry)
            }
        }
        return entries
    }

    func origins(_ name: String) throws(ConfigError) -> [String]? {
        guard let raw = string(name) else { return nil }
        let entries = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for entry in entries where entry != "*" {
            let trimmed = entry.hasSuffix("/") ? String(entry.dropLast()) : entry
            guard let separator = trimmed.range(of: "://"), ["http", "https"].contains(trimmed[..<separator.lowerBound].lowercased()),
                  HostName.split(authority: String(trimmed[separator.upperBound...])) != nil
            else {
                throw .invalidValue(variable: name, expected: "a comma-separated list of origins such as https://app.example.com, or *", got: entry)
            }
        }
        return entries.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }
}
