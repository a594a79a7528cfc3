import Daytona
import RLMConfig
import Sandboxes

/// The sandbox state one MCP session works in: created on first use, deleted when the session ends.
public actor Workspace {
    private let provider: SandboxProvider
    private var sandbox: (any Sandbox)?
    private var closed = false

    init(provider: SandboxProvider) { self.provider = provider }

    /// The session's sandbox, starting it on first use.
    func sandbox() async throws(ToolError) -> any Sandbox {
        guard !closed else { throw ToolError("this MCP session has ended; start a new one") }
        if let sandbox { return sandbox }
        let created = try await provider.makeSandbox()
        sandbox = created
        return created
    }

    /// The sandbox's status, or nil when none was started yet.
    func status() async -> SandboxStatus? {
        await sandbox?.status()
    }

    func close() async {
        closed = true
        await sandbox?.shutdown()
        if sandbox != nil { await provider.sandboxClosed() }
        sandbox = nil
    }
}

/// Makes sandboxes for workspaces with the configured backend, and counts the live ones for `rlm_status`.
public actor SandboxProvider {
    private let config: RLMConfig
    private let local: LocalSandboxFactory
    private let daytona: DaytonaSandboxFactory?
    /// Daytona sandboxes made so far, so that shutdown deletes any a session did not close.
    private var remote: [DaytonaSandbox] = []
    private(set) var live = 0

    public init(config: RLMConfig) {
        self.config = config
        let isolation: IsolationLevel? = switch config.sandboxIsolation {
        case .auto: nil
        case .bubblewrap: .bubblewrap
        case .unshare: .unshare
        case .none: IsolationLevel.none
        }
        local = LocalSandboxFactory(settings: .init(
            python: config.python, isolation: isolation, allowUnsafe: config.sandboxUnsafe,
            limits: .init(memoryMB: config.sandboxMemoryMB)
        ))
        daytona = config.daytonaAPIKey.map { key in
            DaytonaSandboxFactory(settings: DaytonaSettings(apiURL: config.daytonaAPIURL, apiKey: key.exposedValue,
                                                            target: config.daytonaTarget.rawValue, snapshot: config.daytonaSnapshot))
        }
    }

    /// A new sandbox of the configured backend; a Daytona sandbox starts being created at once, labelled with
    /// `workspaceID` (a fresh random id when none is given).
    func makeSandbox(workspaceID: String? = nil) async throws(ToolError) -> any Sandbox {
        switch config.sandboxBackend {
        case .daytona:
            guard let daytona else {
                throw ToolError("RLM_SANDBOX=daytona needs DAYTONA_API_KEY; set it, or set RLM_SANDBOX=local to run code in the local sandbox")
            }
            do {
                let sandbox = try daytona.makeSandbox(workspaceID: workspaceID ?? String(UInt64.random(in: 0...UInt64.max), radix: 36))
                await sandbox.prepare()
                var kept: [DaytonaSandbox] = []
                for existing in remote where !(await existing.isClosed) { kept.append(existing) }
                remote = kept + [sandbox]
                live += 1
                return sandbox
            } catch {
                throw ToolError("cannot start a sandbox: \(error)")
            }
        case .local:
            do {
                let sandbox = try await local.makeSandbox()
                live += 1
                return sandbox
            } catch {
                throw ToolError("cannot start a sandbox: \(error)")
            }
        }
    }

    func sandboxClosed() { live -= 1 }

    /// The local isolation in force ("not started yet" before the first sandbox).
    var isolation: String {
        get async {
            if config.sandboxBackend == .daytona { return "remote Daytona sandbox" }
            return await local.isolation?.rawValue ?? "not detected yet (no sandbox started)"
        }
    }

    /// Removes what is left of the local sandboxes' directories at shutdown.
    public func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for sandbox in remote { group.addTask { await sandbox.shutdown() } }
        }
        remote.removeAll()
        await local.removeWorkRoot()
    }
}
