import Foundation
import Logging
import Sandboxes

/// Makes Daytona sandboxes labelled `app=rlm-mcp` (plus the workspace they belong to), and deletes leftovers.
public struct DaytonaSandboxFactory: Sendable {
    public static let appLabel = ["app": "rlm-mcp"]
    public let client: DaytonaClient

    public init(settings: DaytonaSettings, logger: Logger = Logger(label: "rlm-mcp.daytona")) {
        client = DaytonaClient(settings: settings, logger: logger)
    }

    /// A sandbox for one workspace; its remote creation starts at once, so it overlaps whatever the caller does next.
    /// `shared`: the workspace may be served by several replicas, so a running sandbox already labelled with it is
    /// taken on instead of creating a second one.
    public func makeSandbox(workspaceID: String, shared: Bool = false) throws(SandboxError) -> DaytonaSandbox {
        let script = try WorkerScript.contents()
        return DaytonaSandbox(client: client, labels: Self.appLabel.merging(["rlm-mcp.workspace": workspaceID]) { $1 }, workerScript: script,
                              adoptExisting: shared)
    }

    /// Every sandbox labelled app=rlm-mcp; deleted unless `dryRun`. Returns them with whether each deletion worked.
    public func cleanup(dryRun: Bool) async throws -> [(sandbox: DaytonaSandboxInfo, error: String?)] {
        let found = try await client.listSandboxes(labels: Self.appLabel)
        guard !dryRun else { return found.map { ($0, nil) } }
        var results: [(DaytonaSandboxInfo, String?)] = []
        for sandbox in found {
            do {
                try await client.deleteSandbox(sandbox.id)
                results.append((sandbox, nil))
            } catch {
                results.append((sandbox, "\(error)"))
            }
        }
        return results
    }
}

/// The Daytona backend behind the `SandboxFactory` seam: creation starts at once, and shutdown deletes the sandboxes
/// no workspace closed.
public actor DaytonaSandboxes: SandboxFactory {
    private let factory: DaytonaSandboxFactory
    /// Sandboxes made so far and not yet closed, so that shutdown deletes any a workspace did not close.
    private var open: [DaytonaSandbox] = []

    public init(settings: DaytonaSettings) {
        factory = DaytonaSandboxFactory(settings: settings)
    }

    public func makeSandbox(workspaceID: String, shared: Bool) async throws(SandboxError) -> any Sandbox {
        let sandbox = try factory.makeSandbox(workspaceID: workspaceID, shared: shared)
        await sandbox.prepare()
        var kept: [DaytonaSandbox] = []
        for existing in open where !(await existing.isClosed) { kept.append(existing) }
        open = kept + [sandbox]
        return sandbox
    }

    public var isolationSummary: String { "remote Daytona sandbox" }

    public func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for sandbox in open { group.addTask { await sandbox.shutdown() } }
        }
        open.removeAll()
    }
}
