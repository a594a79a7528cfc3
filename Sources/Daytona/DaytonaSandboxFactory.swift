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
    public func makeSandbox(workspaceID: String) throws(SandboxError) -> DaytonaSandbox {
        let path = try LocalSandboxFactory.workerScript()
        guard let script = FileManager.default.contents(atPath: path) else {
            throw .workerFailed("could not read the worker script \(path)")
        }
        return DaytonaSandbox(client: client, labels: Self.appLabel.merging(["rlm-mcp.workspace": workspaceID]) { $1 }, workerScript: script)
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
