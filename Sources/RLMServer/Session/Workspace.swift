import Daytona
import RLMConfig
import Sandboxes

/// The sandbox state behind one workspace handle: the sandbox is created on first use and deleted with the workspace
/// (idle expiry, the end of the handshake-era session that owns it, or shutdown).
public actor Workspace {
    private let provider: SandboxProvider
    private var sandbox: (any Sandbox)?
    private var closed = false
    /// The signed `ws_…` handle clients pass back to continue here ("" for a workspace that is not registered).
    public nonisolated let handle: String
    /// The random id inside the handle: stable across replicas, so a remote backend can label its sandbox with it.
    public nonisolated let id: String
    /// The signed external reference the handle carries, if any (e.g. a remote sandbox id).
    public nonisolated let reference: String?
    /// Served by several replicas (Daytona with a shared RLM_WORKSPACE_KEY): its sandbox is found again by the
    /// workspace id, and closing it here only detaches, leaving the sandbox to the others.
    public nonisolated let shared: Bool

    /// `closed: true` makes a stand-in that never starts a sandbox (for tools that only inspect a workspace).
    public init(provider: SandboxProvider, handle: String = "", id: String = "", reference: String? = nil, shared: Bool = false,
                closed: Bool = false) {
        self.provider = provider
        self.shared = shared
        self.handle = handle
        self.id = id
        self.reference = reference
        self.closed = closed
    }

    /// The workspace's sandbox, starting it on first use.
    public func sandbox() async throws(ToolError) -> any Sandbox {
        guard !closed else { throw ToolError("this workspace has been closed (it expired or its MCP session ended); call again without `workspace` to get a new one") }
        if let sandbox { return sandbox }
        // A remote sandbox carries the workspace id as a label, so it can be found again from the handle.
        let created = try await provider.makeSandbox(workspaceID: id.isEmpty ? nil : id, shared: shared)
        sandbox = created
        return created
    }

    /// The sandbox's status, or nil when none was started yet.
    func status() async -> SandboxStatus? {
        await sandbox?.status()
    }

    public func close() async {
        closed = true
        if shared { await sandbox?.detach() } else { await sandbox?.shutdown() }
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
    public func makeSandbox(workspaceID: String? = nil, shared: Bool = false) async throws(ToolError) -> any Sandbox {
        switch config.sandboxBackend {
        case .daytona:
            guard let daytona else {
                throw ToolError("RLM_SANDBOX=daytona needs DAYTONA_API_KEY; set it, or set RLM_SANDBOX=local to run code in the local sandbox")
            }
            do {
                let sandbox = try daytona.makeSandbox(workspaceID: workspaceID ?? String(UInt64.random(in: 0...UInt64.max), radix: 36), shared: shared)
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

    /// Gets the local backend ready before the first call needs it: isolation probes (or their saved answer) and a
    /// spare sandbox with a started worker.
    public func warmUp() async {
        if config.sandboxBackend == .local { await local.warmUp() }
    }

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
