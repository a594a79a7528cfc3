import Foundation
import RLMEngine

/// What the history keeps of a run's context: its kind, size and a short preview; the whole text only when asked to.
struct ContextSummary {
    var kind: String
    var size: Int
    var preview: String
    var full: String?

    static let previewChars = 200

    init(_ context: RunContext, keepFull: Bool) {
        let text: String
        switch context {
        case .none:
            (kind, text) = ("none", "")
        case let .text(value):
            (kind, text) = ("text", value)
        case let .json(value):
            kind = "json"
            text = (try? JSONEncoder().encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        case let .sandboxFile(path):
            (kind, text) = ("sandbox_file", path)
        }
        size = text.utf8.count
        preview = text.count <= Self.previewChars ? text : String(text.prefix(Self.previewChars)) + "…"
        full = keepFull && kind != "none" ? text : nil
    }
}
