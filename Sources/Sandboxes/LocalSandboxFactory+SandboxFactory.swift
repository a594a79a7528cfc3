/// The local backend behind the `SandboxFactory` seam (kept beside `Local/` while that folder is being hardened).
extension LocalSandboxFactory: SandboxFactory {
    /// Local sandboxes live in this process, so the workspace id names nothing here and nothing is shared.
    public func makeSandbox(workspaceID _: String, shared _: Bool) async throws(SandboxError) -> any Sandbox {
        try await makeSandbox()
    }

    public var isolationSummary: String { isolation?.rawValue ?? "not detected yet (no sandbox started)" }

    public func shutdown() async { await removeWorkRoot() }
}
