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
        let runs: [History.RunSummary]
        if let recorder = call.runtime.history {
            await recorder.flush()
            do {
                runs = try await recorder.history.recentRuns(visibleTo: RunResources.visibility(of: call), limit: RunResources.listLimit)
            } catch {
                throw RPCError.internalError("the run history could not be read (\(error))")
            }
        } else {
            runs = []
        }
        return RunResources.stamped(["resources": .array(runs.map(RunResources.resource))], era: call.era)
    }
}
