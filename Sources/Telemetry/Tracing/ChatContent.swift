import Foundation

/// Messages as the GenAI conventions' `gen_ai.input.messages` / `gen_ai.output.messages` JSON (role and one text
/// part each); only recorded with `RLM_TRACE_CONTENT=1`.
enum ChatContent {
    private struct Message: Encodable {
        struct Part: Encodable {
            let type = "text"
            let content: String
        }
        let role: String
        let parts: [Part]
    }

    static func json(_ messages: [(role: String, content: String)]) -> String {
        let encoded = try? JSONEncoder().encode(messages.map { Message(role: $0.role, parts: [.init(content: $0.content)]) })
        return encoded.map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }
}
