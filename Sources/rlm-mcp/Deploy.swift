import ArgumentParser
import Daytona
import Foundation
import Sandboxes
import RLMConfig

/// `rlm-mcp deploy [up|status|logs|stop|delete]`: the server in a private Daytona sandbox, reached through its preview
/// link with two tokens (Daytona's preview token and the server's own bearer token).
struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run rlm-mcp in a Daytona sandbox and manage it (needs DAYTONA_API_KEY).",
        discussion: """
            `up` (the default) creates a private sandbox labelled rlm-mcp.deployment=<name>, uploads this binary and the \
            worker, passes the configuration as sandbox environment variables (never as files), starts the server on \
            streamable HTTP with a fresh MCP_AUTH_TOKEN, waits until /health answers through the preview link, and prints \
            the `claude mcp add` command with both headers it needs.
            """,
        subcommands: [DeployUp.self, DeployStatus.self, DeployLogs.self, DeployStop.self, DeployDelete.self],
        defaultSubcommand: DeployUp.self
    )
}

/// Options every deploy subcommand shares.
struct DeployOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(help: "Name of the deployment (the sandbox label rlm-mcp.deployment).")
    var name = "default"

    @Flag(help: "Print the real tokens in the `claude mcp add` line even when stdout is not a terminal.")
    var showSecrets = false

    /// Secrets are printed on a terminal, or when asked for; never into a captured log by default.
    var revealSecrets: Bool { showSecrets || isatty(STDOUT_FILENO) == 1 }
}

struct DeployUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "up", abstract: "Create the sandbox and start the server in it (the default).")

    @OptionGroup var options: DeployOptions

    @Option(name: .customLong("sandbox-port"), help: "Port the server listens on inside the sandbox (Daytona previews ports 3000-9999).")
    var port = 8000

    @Option(help: "The Linux rlm-mcp binary to upload; default: this one. Build it with --static-swift-stdlib so it needs no Swift runtime.")
    var binary: String?

    @Option(help: "Seconds to wait for the sandbox to start and the server to answer /health.")
    var timeout = 180

    func run() async throws {
        guard (3000...9999).contains(port) else { throw Deployment.fail("--sandbox-port must be from 3000 to 9999 (Daytona previews only those)") }
        let deployment = try Deployment(options: options)
        if let existing = try await deployment.find() {
            throw Deployment.fail("deployment \"\(options.name)\" already exists (sandbox \(existing.id), \(existing.state)); "
                + "`rlm-mcp deploy status` shows it, `rlm-mcp deploy delete` removes it")
        }
        let token = Deployment.freshToken()
        let environment = try deployment.sandboxEnvironment(port: port, authToken: token)
        let binaryPath = try binary ?? Deployment.runningExecutable()
        let files = try Deployment.uploads(binary: binaryPath)
        let started = ContinuousClock.now
        let limit = Duration.seconds(timeout)

        deployment.say("creating a private Daytona sandbox for deployment \"\(options.name)\"")
        let created = try await deployment.client.createSandbox(labels: deployment.labels, environment: environment)
        do {
            let info = try await deployment.client.waitUntilStarted(created, timeout: limit)
            let toolbox = try await deployment.client.toolboxBase(for: info)
            let home = try await deployment.client.workDir(toolbox: toolbox)
            let dir = home + "/rlm-mcp"
            deployment.say("uploading \(files.count) files to \(dir)")
            for (relative, data) in files {
                let path = dir + "/" + relative
                try await deployment.client.createFolder(toolbox: toolbox, path: (path as NSString).deletingLastPathComponent)
                try await deployment.client.uploadFile(toolbox: toolbox, path: path, data: data)
            }
            let chmod = try await deployment.client.execute(toolbox: toolbox, command: "chmod 755 " + ShellWord.quoted(dir + "/rlm-mcp"), cwd: nil, timeout: .seconds(30))
            guard chmod.exitCode == 0 else { throw Deployment.fail("could not make the binary executable: \(chmod.result)") }
            try await deployment.client.createSession(toolbox: toolbox, id: Deployment.session)
            let command = try await deployment.client.startCommand(toolbox: toolbox, session: Deployment.session,
                                                                   command: "cd \(ShellWord.quoted(dir)) && exec ./rlm-mcp serve")
            let link = try await deployment.client.previewLink(sandbox: info.id, port: port)
            deployment.say("waiting for the server to answer /health through the preview link")
            try await deployment.waitForHealth(link: link, toolbox: toolbox, command: command, deadline: started + limit)
            print("rlm-mcp is running in Daytona sandbox \(info.id) (deployment \"\(options.name)\").")
            deployment.printConnection(link: link, authToken: token)
        } catch {
            // A half-made deployment is deleted rather than left running with a token nobody saw.
            try? await deployment.client.deleteSandbox(created.id)
            throw error
        }
    }
}

struct DeployStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the deployment's sandbox, health and connection line.")

    @OptionGroup var options: DeployOptions

    @Option(name: .customLong("sandbox-port"), help: "Port the server listens on inside the sandbox.")
    var port = 8000

    func run() async throws {
        let deployment = try Deployment(options: options)
        let info = try await deployment.require()
        print("deployment \"\(options.name)\": sandbox \(info.id), \(info.state)")
        guard info.state == "started" else { return }
        let toolbox = try await deployment.client.toolboxBase(for: info)
        if let last = try await deployment.client.sessionCommands(toolbox: toolbox, session: Deployment.session).last {
            print("server: " + (last.exitCode.map { "exited with status \($0) (see `rlm-mcp deploy logs`)" } ?? "running"))
        }
        let link = try await deployment.client.previewLink(sandbox: info.id, port: port)
        let health = try? await deployment.client.previewGet(link.url + "/health", previewToken: link.token, bearer: nil)
        print("health: " + (health.map { "HTTP \($0.status) \($0.body)" } ?? "no answer"))
        let token = options.revealSecrets ? try await deployment.authToken(toolbox: toolbox) : nil
        deployment.printConnection(link: link, authToken: token)
    }
}

struct DeployLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print the deployed server's log.")

    @OptionGroup var options: DeployOptions

    func run() async throws {
        let deployment = try Deployment(options: options)
        let info = try await deployment.require()
        guard info.state == "started" else { throw Deployment.fail("the sandbox is \(info.state); its log is readable only while it runs") }
        let toolbox = try await deployment.client.toolboxBase(for: info)
        guard let last = try await deployment.client.sessionCommands(toolbox: toolbox, session: Deployment.session).last else {
            throw Deployment.fail("the server was never started in sandbox \(info.id)")
        }
        let logs = try await deployment.client.commandLogs(toolbox: toolbox, session: Deployment.session, command: last.id)
        print(logs.stdout + logs.stderr, terminator: "")
    }
}

struct DeployStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop the sandbox (the server ends; `delete` removes it).")

    @OptionGroup var options: DeployOptions

    func run() async throws {
        try await changeSandbox(options, done: "stopped") { client, id in try await client.stopSandbox(id) }
    }
}

struct DeployDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete the deployment's sandbox.")

    @OptionGroup var options: DeployOptions

    func run() async throws {
        try await changeSandbox(options, done: "deleted") { client, id in try await client.deleteSandbox(id) }
    }
}

/// `stop` and `delete`: one change to the deployment's sandbox, then a line saying what was done to which sandbox.
private func changeSandbox(_ options: DeployOptions, done: String, _ change: (DaytonaClient, String) async throws -> Void) async throws {
    let deployment = try Deployment(options: options)
    let info = try await deployment.require()
    try await change(deployment.client, info.id)
    print("\(done) sandbox \(info.id) (deployment \"\(options.name)\")")
}
