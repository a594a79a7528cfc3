import History
import RLMCommon

/// `rlm_status`'s `history` section: which store, whether it has opened, and what to fix when it could not; read
/// without waiting for the store, so `rlm_status` answers while the history is still opening.
extension StatusTool {
    struct HistorySection: Sendable {
        let state: String
        let backend: String?
        let problem: String?

        init(_ handle: HistoryHandle?) {
            guard let handle else {
                (state, backend, problem) = ("off", nil, nil)
                return
            }
            let current = handle.state
            (state, backend, problem) = (current.name, handle.backend.rawValue, current.problem)
        }

        var value: JSONValue {
            ["state": .string(state), "backend": backend.map(JSONValue.string) ?? .null, "problem": problem.map(JSONValue.string) ?? .null]
        }

        /// One line for the text answer.
        var line: String {
            "run history: \(state)" + (backend.map { " (\($0))" } ?? "") + (problem.map { " — \($0)" } ?? "")
        }
    }

    static let historySchema: Schema = .object(properties: [
        ("state", .string(oneOf: ["off", "opening", "open", "failed"])),
        ("backend", .nullable(.string(oneOf: ["sqlite", "postgres"]))),
        ("problem", .nullable(.string(description: "Why the run history could not be opened and what to fix"))),
    ], required: ["state"])
}
