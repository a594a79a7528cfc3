import Foundation
import RLMCommon

/// Where a run's `context` lives in the sandbox: a file the run uploads (an inline context), or the caller's own file.
/// The loop and `rlm_decompose` both put contexts there this way, so a context never passes through a prompt.
struct ContextFile: Sendable {
    let path: String
    /// The bytes to upload first; nil for a file already in the sandbox (the caller's, never deleted by the run).
    let upload: Data?
    /// How the worker loads it: `text` (a str) or `json` (parsed).
    let kind: String

    /// nil when the run has no context.
    init?(_ context: RunContext, runID: String) {
        switch context {
        case .none:
            return nil
        case let .text(text):
            self.init(path: ".rlm/\(runID)-context.txt", upload: Data(text.utf8), kind: "text")
        case let .json(value):
            self.init(path: ".rlm/\(runID)-context.json", upload: (try? JSONEncoder().encode(value)) ?? Data("null".utf8), kind: "json")
        case let .sandboxFile(path):
            self.init(path: path, upload: nil, kind: path.lowercased().hasSuffix(".json") ? "json" : "text")
        }
    }

    private init(path: String, upload: Data?, kind: String) {
        self.path = path
        self.upload = upload
        self.kind = kind
    }
}
