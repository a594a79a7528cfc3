import ArgumentParser
import Foundation
import RLMConfig
import Sandboxes

/// `rlm-mcp connect`: where a client reaches the configured server, and the `claude mcp add` line that connects it.
struct Connect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the endpoint of the configured server and the command that adds it to Claude Code.",
        discussion: """
            The bearer token (MCP_AUTH_TOKEN) is shown as a placeholder unless --show-token is given, so this output \
            can go to logs safely.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Put the real MCP_AUTH_TOKEN into the printed command instead of a placeholder.")
    var showToken = false

    @Option(help: "Name the server gets in the client.")
    var name = "rlm-mcp"

    /// Accepted so run_server.sh can hand `connect` the same options as `serve`; it changes nothing here.
    @Flag(help: .hidden)
    var allowUnauthenticated = false

    func run() throws {
        let config = try options.resolve()
        guard config.transport != .stdio else {
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
            print("Transport: stdio (the client launches the server)")
            // The client may start the server in any directory: name the configuration files explicitly.
            let files = options.absoluteEnvFiles.map { " --env-file " + ShellWord.quoted($0) }.joined()
            print("Claude Code:  claude mcp add \(name) -- \(ShellWord.quoted(binary)) serve\(files)")
            return
        }
        guard config.port != 0 else {
            print("MCP_PORT is 0: the port is chosen at start-up; the server logs \"listening on <url>\" with it.")
            return
        }
        let base = "http://\(Self.reachableHost(config.host)):\(config.port)"
        let endpoint = base + (config.transport == .sse ? "/sse" : "/mcp")
        var command = "claude mcp add --transport \(config.transport == .sse ? "sse" : "http") \(name) \(endpoint)"
        if let token = config.authToken {
            let shown = showToken ? token.exposedValue : "<MCP_AUTH_TOKEN>"
            command += " --header " + ShellWord.quoted("Authorization: Bearer \(shown)")
        }
        print("MCP endpoint: \(endpoint)")
        print("Health check: \(base)/health")
        if config.historyEnabled { print("Run viewer:   \(base)/runs") } // what `run_server.sh --http` shows of the history
        print("Claude Code:  \(command)")
    }

    /// A wildcard bind is reached through loopback from this machine; IPv6 literals need brackets in a URL.
    static func reachableHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "": return "127.0.0.1"
        case "::", "[::]": return "[::1]"
        default: return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
    }

}
