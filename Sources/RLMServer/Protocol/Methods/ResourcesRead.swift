import History
import RLMCommon

/// `resources/read`: one run's whole trajectory (`rlm://runs/<run_id>`), as JSON in the shape of `rlm-mcp runs export`.
enum ResourcesRead: MCPMethod {
    static let name = "resources/read"
    static let eras: Set<Era> = [.handshake, .modern]

    static func respond(to call: MethodCall) async throws -> JSONValue {
        guard let uri = call.params["uri"]?.stringValue else {
            throw RPCError.invalidParams("Invalid params: resources/read needs params.uri, e.g. \"\(RunResources.uri("run_…"))\" from resources/list")
        }
        guard let runID = RunResources.runID(in: uri) else {
            throw notFound(uri, because: "this server's resources are runs, \(RunResources.template); take a URI from resources/list or from an rlm_* tool result's resource_link")
        }
        let history = try await RunResources.history(for: call)
        let run: RunDetail?
        do {
            run = try await history.detail(runID, visibleTo: RunResources.visibility(of: call))
        } catch {
            throw RPCError.internalError("the run history could not be read (\(error))")
        }
        // Another caller's run reads exactly like an unknown one: its existence is not this caller's business.
        guard let run else {
            throw notFound(uri, because: "no run \(runID) that this caller may see (unknown, deleted after RLM_HISTORY_DAYS, or made with "
                           + "another token or in another session); resources/list shows the runs you can read")
        }
        let text: String
        do {
            text = try RunJSON.string(run)
        } catch {
            throw RPCError.internalError("run \(runID) could not be encoded (\(error))")
        }
        let contents: JSONValue = ["uri": .string(uri), "mimeType": .string(RunResources.mimeType), "text": .string(text)]
        return RunResources.stamped(["contents": [contents]], era: call.era)
    }

    private static func notFound(_ uri: String, because reason: String) -> RPCError {
        RPCError(code: -32602, message: "Resource not found: \(reason)", data: ["uri": .string(uri)])
    }
}
