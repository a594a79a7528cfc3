/// Makes the sandboxes of one backend; `SandboxBackends` (the wiring layer) picks which factory a server uses.
public protocol SandboxFactory: Sendable {
    /// A new sandbox for the workspace `workspaceID` (a backend that can find sandboxes again labels it with the id);
    /// `shared`: the workspace may be served by several replicas, so an existing sandbox of it is taken on.
    func makeSandbox(workspaceID: String, shared: Bool) async throws(SandboxError) -> any Sandbox
    /// The isolation in force, as `rlm_status` shows it before a workspace has a sandbox of its own.
    var isolationSummary: String { get async }
    /// Removes what this factory's sandboxes left behind; called once, at shutdown.
    func shutdown() async
    /// Gets ready before the first call needs a sandbox (e.g. a started spare worker); called once, at launch.
    func warmUp() async
}

extension SandboxFactory {
    /// Most backends have nothing to prepare.
    public func warmUp() async {}
}
