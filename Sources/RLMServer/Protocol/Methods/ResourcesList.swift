import History
import RLMCommon

/// `resources/list`: the caller's most recent runs, newest first, as `rlm://runs/<run_id>` resources.
enum ResourcesList: MCPMethod {
    static let name = "resources/list"
    static let eras: Set<Era> = [.handshake, .modern]

    static func respond(to call: MethodCall) async throws -> JSONValue {
        if let cursor = call.params["cursor"], cursor != .null {
            throw RPCError.invalidParams("Invalid params: invalid cursor: resources/list returns the \(RunResources.listLimit) newest runs in one page and issues no cursors")
        }
        // No history, no runs: clients list resources on connect and must not see an error for RLM_HISTORY=off.
        guard call.runtime.history != nil else { return RunResources.stamped(["resources": []], era: call.era) }
        let history = try await RunResources.history(for: call)
        let runs: [History.RunSummary]
        do {
            runs = try await history.recentRuns(visibleTo: RunResources.visibility(of: call), limit: RunResources.listLimit)
        } catch {
            throw RPCError.internalError("the run history could not be read (\(error))")
        }
        return RunResources.stamped(["resources": .array(runs.map(RunResources.resource))], era: call.era)
    }
}
