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

    @Option(name: .customLong("env-file"), help: ArgumentHelp(
        "A KEY=value configuration file to read (repeatable; the first file that sets a variable wins).",
        discussion: "Besides these, only $XDG_CONFIG_HOME/rlm-mcp/env (or ~/.config/rlm-mcp/env) is read; never the working directory.",
        valueName: "path"))
    var envFiles: [String] = []

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

    /// The `--env-file` paths made absolute, so they can be handed on (e.g. in a `claude mcp add` line).
    var absoluteEnvFiles: [String] {
        envFiles.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }

    /// Loads and validates the configuration; on an invalid value prints what to fix and exits with status 2.
    func resolve(extraFlags: [String: String]? = nil) throws -> RLMConfig {
        warnAboutIgnoredFiles()
        return try exitingOnProblem { try RLMConfig.load(flags: extraFlags ?? flagVariables, envFiles: absoluteEnvFiles) }
    }

    /// The layers `resolve` reads, for commands that need the raw values (e.g. to forward them).
    func variables() throws -> LayeredVariables {
        try exitingOnProblem {
            try LayeredVariables.standard(flags: flagVariables, environment: ProcessInfo.processInfo.environment, envFiles: absoluteEnvFiles)
        }
    }

    /// Runs `load`; a problem with the configuration is printed (it says what to fix) and ends the command with status 2.
    private func exitingOnProblem<Value>(_ load: () throws -> Value) throws -> Value {
        do {
            return try load()
        } catch {
            FileHandle.standardError.write(Data("rlm-mcp: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Earlier versions read `.env.local` and `.env` from the working directory; say so when such a file is there
    /// but not named, so nobody wonders why it has no effect.
    private func warnAboutIgnoredFiles() {
        let cwd = FileManager.default.currentDirectoryPath
        let named = Set(absoluteEnvFiles)
        for name in [".env.local", ".env"] {
            let path = URL(fileURLWithPath: cwd).appendingPathComponent(name).standardizedFileURL.path
            if FileManager.default.fileExists(atPath: path), !named.contains(path) {
                FileHandle.standardError.write(Data("rlm-mcp: note: \(path) is not read (configuration files come from --env-file and ~/.config/rlm-mcp/env, never the working directory)\n".utf8))
            }
        }
    }
}
