import ArgumentParser
import Daytona
import Foundation
import RLMCommon
import RLMConfig
import Sandboxes

/// The pieces the deploy subcommands share: the Daytona client, how a deployment is found, what the sandbox gets.
struct Deployment {
    /// The session the server runs in.
    static let session = "rlm-mcp-server"

    let options: DeployOptions
    let config: RLMConfig
    let client: DaytonaClient

    /// Not app=rlm-mcp: `rlm-mcp cleanup` deletes those, and a deployment must survive it.
    var labels: [String: String] { ["app": "rlm-mcp-deploy", "rlm-mcp.deployment": options.name] }

    init(options: DeployOptions) throws {
        self.options = options
        config = try options.config.resolve()
        guard let key = config.daytonaAPIKey else {
            throw Self.fail("DAYTONA_API_KEY is not set; put it in .env.local or the environment")
        }
        client = DaytonaClient(settings: DaytonaSettings(apiURL: config.daytonaAPIURL, apiKey: key.exposedValue,
                                                         target: config.daytonaTarget.rawValue, snapshot: config.daytonaSnapshot))
    }

    static func fail(_ message: String) -> DeployFailure { DeployFailure(message: message) }

    func say(_ message: String) { FileHandle.standardError.write(Data("rlm-mcp deploy: \(message)\n".utf8)) }

    func find() async throws -> DaytonaSandboxInfo? {
        let found = try await client.listSandboxes(labels: labels).filter { !["destroyed", "destroying"].contains($0.state) }
        guard found.count <= 1 else {
            throw Self.fail("\(found.count) sandboxes carry rlm-mcp.deployment=\(options.name) (\(found.map(\.id).joined(separator: ", "))); delete the extra ones")
        }
        return found.first
    }

    func require() async throws -> DaytonaSandboxInfo {
        guard let info = try await find() else {
            throw Self.fail("there is no deployment \"\(options.name)\"; `rlm-mcp deploy` creates it")
        }
        return info
    }

    /// The configuration the user set (flags, environment, .env files) minus what only makes sense here, plus the
    /// server's HTTP settings. The Daytona key goes along only when RLM_SANDBOX=daytona asks the deployed server to
    /// make sandboxes of its own; otherwise it runs code in local sandboxes inside its sandbox.
    func sandboxEnvironment(port: Int, authToken: String) throws -> [String: String] {
        let variables = try options.config.variables()
        let hostOnly: Set = ["MCP_TRANSPORT", "MCP_HOST", "MCP_PORT", "MCP_AUTH_TOKEN", "RLM_PYTHON", "RLM_SANDBOX"]
        let forwardDaytona = config.sandbox == .daytona
        var environment: [String: String] = [:]
        for name in RLMConfig.variableNames where !hostOnly.contains(name) && (forwardDaytona || !name.hasPrefix("DAYTONA_")) {
            if let value = variables[name] { environment[name] = value }
        }
        environment["RLM_SANDBOX"] = forwardDaytona ? "daytona" : "local"
        environment["MCP_TRANSPORT"] = "streamable-http"
        environment["MCP_HOST"] = "0.0.0.0"
        environment["MCP_PORT"] = String(port)
        environment["MCP_AUTH_TOKEN"] = authToken
        return environment
    }

    /// 32 random bytes, URL-safe base64 without padding.
    static func freshToken() -> String {
        RandomID.base64URL(bytes: 32)
    }

    static func runningExecutable() throws -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        throw fail("cannot find this program's own binary; pass --binary /path/to/rlm-mcp (a Linux build)")
    }

    /// The binary and, beside it where Bundle.module looks, the worker script's resource bundle.
    static func uploads(binary: String) throws -> [(String, Data)] {
        guard let executable = FileManager.default.contents(atPath: binary) else { throw fail("cannot read --binary \(binary)") }
        guard executable.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else { throw fail("\(binary) is not a Linux (ELF) binary") }
        if executable.range(of: Data("libswiftCore.so".utf8)) != nil {
            FileHandle.standardError.write(Data(("rlm-mcp deploy: warning: \(binary) loads the Swift runtime from shared libraries, which a "
                + "Daytona sandbox lacks unless its snapshot installs Swift; build with `swift build -c release --static-swift-stdlib` "
                + "(setup.sh does)\n").utf8))
        }
        let worker = try WorkerScript.contents()
        return [("rlm-mcp", executable), ("rlm-mcp_Sandboxes.resources/rlm_worker.py", worker)]
    }

    /// Polls /health through the preview link until it answers 200, failing early when the server exits.
    func waitForHealth(link: DaytonaPreviewLink, toolbox: String, command: String, deadline: ContinuousClock.Instant) async throws {
        var lastProblem = "no answer yet"
        while ContinuousClock.now < deadline {
            if let exit = try await client.command(toolbox: toolbox, session: Self.session, command: command).exitCode {
                let logs = try? await client.commandLogs(toolbox: toolbox, session: Self.session, command: command)
                let tail = ((logs?.stdout ?? "") + (logs?.stderr ?? "")).split(separator: "\n").suffix(10).joined(separator: "\n")
                throw Self.fail("the server exited with status \(exit) in the sandbox; its last log lines:\n\(tail)")
            }
            do {
                let answer = try await client.previewGet(link.url + "/health", previewToken: link.token, bearer: nil, timeout: .seconds(5))
                if answer.status == 200 { return }
                lastProblem = "HTTP \(answer.status)"
            } catch {
                lastProblem = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw Self.fail("the server did not answer /health through \(link.url) in time (\(lastProblem)); `rlm-mcp deploy logs` shows its log")
    }

    /// The deployed server's bearer token, read from its sandbox's environment (it is in no file).
    func authToken(toolbox: String) async throws -> String? {
        let result = try await client.execute(toolbox: toolbox, command: "printenv MCP_AUTH_TOKEN", cwd: nil, timeout: .seconds(30))
        let token = result.result.trimmingCharacters(in: .whitespacesAndNewlines)
        return result.exitCode == 0 && !token.isEmpty ? token : nil
    }

    /// The endpoint and the `claude mcp add` line; tokens are placeholders unless they may be shown.
    func printConnection(link: DaytonaPreviewLink, authToken: String?) {
        let endpoint = link.url + "/mcp"
        let reveal = options.revealSecrets
        var command = "claude mcp add --transport http rlm-mcp \(endpoint)"
        command += " --header " + ShellWord.quoted("Authorization: Bearer " + (reveal ? authToken ?? "<MCP_AUTH_TOKEN>" : "<MCP_AUTH_TOKEN>"))
        if let preview = link.token {
            command += " --header " + ShellWord.quoted("x-daytona-preview-token: " + (reveal ? preview : "<preview token>"))
        }
        print("MCP endpoint: \(endpoint)")
        print("Claude Code:  \(command)")
        if !reveal {
            print("(tokens hidden because stdout is not a terminal; `rlm-mcp deploy status --show-secrets` prints them)")
        }
    }
}

/// A deploy step that failed, worded as what to do; ArgumentParser prints it and exits with status 1.
struct DeployFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
