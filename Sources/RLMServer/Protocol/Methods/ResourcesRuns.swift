import Crypto
import Foundation
import History
import RLMCommon

/// What the MCP resources share: the `rlm://runs/<run_id>` URIs, whose runs a caller may see, and the run history.
enum RunResources {
    static let scheme = "rlm://runs/"
    static let template = "rlm://runs/{run_id}"
    static let mimeType = "application/json"
    /// How many runs `resources/list` shows (the newest first); older ones stay readable by URI.
    static let listLimit = 100

    static func uri(_ runID: String) -> String { scheme + runID }

    /// The run id a `rlm://runs/<run_id>` URI names, or nil for any other URI.
    static func runID(in uri: String) -> String? {
        guard uri.hasPrefix(scheme) else { return nil }
        let id = uri.dropFirst(scheme.count)
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
        return String(id)
    }

    /// The history's fingerprint of a workspace handle (`ws#…`): runs are recorded under it, never under the handle.
    static func fingerprint(workspace handle: String) -> String {
        "ws#" + SHA256.hash(data: Data(handle.utf8)).prefix(8).hexEncoded
    }

    /// Whose runs the caller sees: with a bearer token, that token's; in a handshake-era session, its workspace's;
    /// a 2026-07-28 caller without a token has neither, so it sees the runs recorded without a token — the same
    /// runs this server's `/runs` page shows anyone who may reach it.
    static func visibility(of call: MethodCall) -> RunVisibility {
        var visibility = RunVisibility(owner: call.owner.isEmpty ? nil : call.owner)
        if let session = call.session {
            if !session.workspace.handle.isEmpty { visibility.workspaces = [fingerprint(workspace: session.workspace.handle)] }
        } else if call.owner.isEmpty {
            visibility.unowned = true
        }
        return visibility
    }

    /// The run history, with every run recorded so far written (a run a tool just returned is readable at once).
    /// A store still opening is waited for a few seconds (`HistoryHandle.patience`), then the caller is told to retry;
    /// an open that failed is named at once.
    static func history(for call: MethodCall) async throws(RPCError) -> any RunStore {
        guard let recorder = call.runtime.history else {
            throw .invalidParams("Resource not found: this server keeps no run history (RLM_HISTORY=off; set RLM_HISTORY=on to record runs)")
        }
        let store: any RunStore
        do {
            store = try await recorder.handle.store(waitingAtMost: HistoryHandle.patience)
        } catch {
            if case .stillOpening = error { throw .internalError("\(error)") }
            throw .internalError("the run history could not be opened: \(error); restart the server once it is fixed")
        }
        await recorder.flush()
        return store
    }

    /// The `Resource` entry for one run: its URI, the task as the title.
    static func resource(_ run: History.RunSummary) -> JSONValue {
        [
            "uri": .string(uri(run.runID)),
            "name": .string(run.runID),
            "title": .string(title(run)),
            "description": .string("\(run.tool) run, \(run.status), started \(run.startedAt.ISO8601Format())"),
            "mimeType": .string(mimeType),
        ]
    }

    /// The `resource_link` content block a tool result carries to its run.
    static func link(runID: String, tool: String, task: String) -> ResourceLink {
        ResourceLink(uri: uri(runID), name: runID, title: title(tool: tool, task: task),
                     description: "The run's whole trajectory (replies, code, output, sub-calls); read it with resources/read",
                     mimeType: mimeType)
    }

    static func title(_ run: History.RunSummary) -> String { title(tool: run.tool, task: run.task) }

    private static func title(tool: String, task: String) -> String {
        let line = task.split(whereSeparator: \.isNewline).first.map(String.init) ?? task
        return "\(tool): " + (line.count > 80 ? String(line.prefix(79)) + "…" : line)
    }

    /// The 2026-07-28 cache fields: run lists change with every run, so nothing is cached, and never across tokens.
    static func stamped(_ fields: [String: JSONValue], era: Era) -> JSONValue {
        guard era == .modern else { return .object(fields) }
        return .object(fields.merging(["ttlMs": 0, "cacheScope": "private"]) { own, _ in own })
    }
}
