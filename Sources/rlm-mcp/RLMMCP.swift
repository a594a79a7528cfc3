import ArgumentParser
import RLMConfig

/// The `rlm-mcp` command: an MCP server that gives clients Recursive Language Model tools.
@main
struct RLMMCP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rlm-mcp",
        abstract: "An MCP server that runs Recursive Language Model loops over contexts of any size.",
        discussion: """
            Configuration comes from flags, then the environment, then the files named with --env-file, then \
            ~/.config/rlm-mcp/env ($XDG_CONFIG_HOME/rlm-mcp/env); never from the working directory. \
            Run `rlm-mcp status` to see what is in force.
            """,
        version: RLMVersion.current,
        subcommands: [Serve.self, Run.self, Runs.self, Status.self, Connect.self, Cleanup.self, Deploy.self],
        defaultSubcommand: Serve.self
    )
}
