import ArgumentParser
import Foundation
import RLMConfig

/// Flags that override configuration variables; shared by every command that resolves the configuration.
struct ConfigOptions: ParsableArguments {
    @Option(help: "Transport: stdio, streamable-http or sse (MCP_TRANSPORT).")
    var transport: String?

    @Option(help: "Address to listen on for HTTP transports (MCP_HOST).")
    var host: String?

    @Option(help: "Port to listen on for HTTP transports; 0 picks a free port (MCP_PORT).")
    var port: String?

    @Option(help: "Log level: trace, debug, info, warning, error (RLM_LOG_LEVEL).")
    var logLevel: String?

    @Flag(help: "Run LLM-written code without isolation when no sandbox isolation works (RLM_SANDBOX_UNSAFE=1). Dangerous.")
    var unsafeLocal = false

    var flagVariables: [String: String] {
        var flags: [String: String] = [:]
        flags["MCP_TRANSPORT"] = transport
        flags["MCP_HOST"] = host
        flags["MCP_PORT"] = port
        flags["RLM_LOG_LEVEL"] = logLevel
        if unsafeLocal { flags["RLM_SANDBOX_UNSAFE"] = "1" }
        return flags
    }

    /// Loads and validates the configuration; on an invalid value prints what to fix and exits with status 2.
    func resolve(extraFlags: [String: String]? = nil) throws -> RLMConfig {
        do {
            return try RLMConfig.load(flags: extraFlags ?? flagVariables)
        } catch {
            FileHandle.standardError.write(Data("rlm-mcp: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
