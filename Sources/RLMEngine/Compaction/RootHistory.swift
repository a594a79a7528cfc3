import LanguageModels

/// The root model's conversation as the loop keeps it: system prompt and task verbatim, a summary of the iterations that
/// were compacted, and the later iterations (reply + observation) verbatim unless one alone was too big to send.
struct RootHistory: Sendable {
    /// One iteration as the root model sees it, plus a one-line outline for a mechanical summary.
    struct Exchange: Sendable, Equatable {
        var iteration: Int
        var reply: String
        var observation: String
        var outline: String
    }

    /// What stands in for the compacted iterations.
    struct Summary: Sendable, Equatable {
        var firstIteration: Int
        var lastIteration: Int
        /// Findings, failures and what is left, by the sub model or mechanically.
        var body: String
        /// The REPL's variables when the summary was made, read from the REPL.
        var variables: String
    }

    let system: String
    let task: String
    var summary: Summary?
    var exchanges: [Exchange] = []

    init(system: String, task: String) {
        self.system = system
        self.task = task
    }

    /// The request's messages; `extra` is a last user message (the fallback's request for a final answer).
    func messages(extra: String? = nil) -> [ChatMessage] {
        var messages = [ChatMessage(.system, system), ChatMessage(.user, summary.map { task + "\n\n" + Self.render($0) } ?? task)]
        for exchange in exchanges {
            messages.append(ChatMessage(.assistant, exchange.reply))
            messages.append(ChatMessage(.user, exchange.observation))
        }
        if let extra { messages.append(ChatMessage(.user, extra)) }
        return messages
    }

    static func render(_ summary: Summary) -> String {
        let span = summary.firstIteration == summary.lastIteration
            ? "Iteration \(summary.firstIteration) is" : "Iterations \(summary.firstIteration)–\(summary.lastIteration) are"
        return """
            [\(span) summarised here to fit the root model's context window. The REPL still holds the variables below.]
            REPL variables now (read from the REPL itself):
            \(summary.variables)
            What those iterations found and tried:
            \(summary.body)
            """
    }
}
