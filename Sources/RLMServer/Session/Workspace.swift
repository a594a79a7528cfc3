import RLMCommon
import RLMConfig
import SandboxBackends
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

/// Makes sandboxes for workspaces with the backend `SandboxBackends` picks, and counts the live ones for `rlm_status`.
public actor SandboxProvider {
    private let factory: any SandboxFactory
    private(set) var live = 0

    public init(config: RLMConfig) {
        factory = SandboxBackends.factory(for: config)
    }

    /// A new sandbox of the configured backend, labelled with `workspaceID` (a fresh random id when none is given).
    public func makeSandbox(workspaceID: String? = nil, shared: Bool = false) async throws(ToolError) -> any Sandbox {
        do {
            let sandbox = try await factory.makeSandbox(workspaceID: workspaceID ?? RandomID.base36(), shared: shared)
            live += 1
            return sandbox
        } catch {
            throw ToolError("cannot start a sandbox: \(error)")
        }
    }

    func sandboxClosed() { live -= 1 }

    /// Gets the backend ready before the first call needs it (locally: isolation probes, or their saved answer, and
    /// a spare sandbox with a started worker).
    public func warmUp() async {
        await factory.warmUp()
    }

    /// The isolation in force ("not detected yet" before the first local sandbox).
    var isolation: String {
        get async { await factory.isolationSummary }
    }

    /// Deletes the remote sandboxes no workspace closed, and what is left of the local sandboxes' directories.
    public func shutdown() async {
        await factory.shutdown()
    }
}
