/// Shortens text that cannot be sent whole, keeping its start and its end (where tracebacks and results usually are)
/// and saying how much was cut, so the model knows it is not seeing everything.
enum TextCut {
    static func marker(_ count: Int) -> String {
        "\n[… \(count) characters cut here to fit the root model's context window …]\n"
    }

    /// `text` itself when it has at most `limit` characters, else its head and tail around a marker, within `limit`.
    static func cut(_ text: String, toChars limit: Int) -> String {
        guard text.count > limit else { return text }
        let room = max(0, limit - marker(text.count).count)
        let head = room * 2 / 3
        let tail = room - head
        let removed = text.count - head - tail
        return String(text.prefix(head)) + marker(removed) + String(text.suffix(tail))
    }

    /// The first line of `text`, at most `limit` characters, with an ellipsis when anything was left out.
    static func firstLine(_ text: String, limit: Int) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let line = trimmed.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        let short = line.count > limit ? String(line.prefix(limit)) + "…" : line
        return short + (trimmed.contains("\n") && !short.hasSuffix("…") ? " …" : "")
    }
}
