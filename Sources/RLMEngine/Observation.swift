import RLMCommon
import Sandboxes

/// How the output of a reply's code blocks is shown to the root model.
enum Observation {
    /// What the model reads after a reply without code (nothing ran).
    static let noCodeBlock = "Your reply had no ```python code block, so nothing ran. Write code in a ```python block; "
        + "finish by calling SUBMIT(answer=...) inside one."

    /// `workerLost`: a block's worker was stopped (a timeout, a crash), so the model is told its variables are gone.
    static func render(_ runs: [CodeRun], skipped: Int, workerLost: Bool) -> String {
        var parts: [String] = []
        for (index, run) in runs.enumerated() {
            var lines: [String] = []
            if runs.count > 1 { lines.append("Block \(index + 1) of \(runs.count + skipped):") }
            if !run.stdout.isEmpty { lines.append("stdout:\n" + fenced(run.stdout)) }
            if !run.stderr.isEmpty { lines.append("stderr:\n" + fenced(run.stderr)) }
            if let error = run.error { lines.append("error:\n" + fenced(error)) }
            if run.stdout.isEmpty && run.stderr.isEmpty && run.error == nil {
                lines.append(run.submitted ? "(SUBMIT was called)" : "(no output: print() what you want to see)")
            }
            parts.append(lines.joined(separator: "\n"))
        }
        if workerLost {
            parts.append("The worker running your code was stopped, so your variables are gone; the next block starts in a fresh "
                + "worker where `context` is loaded again.")
        }
        if skipped > 0 {
            parts.append("The \(skipped) block\(skipped == 1 ? "" : "s") after the failing one did not run.")
        }
        return parts.joined(separator: "\n\n")
    }

    /// A plain-text `FINAL_VAR(...)` whose argument is no variable name; nothing ran.
    static func invalidFinalVariable(_ argument: String) -> String {
        "FINAL_VAR needs the name of a REPL variable, e.g. FINAL_VAR(result); `\(argument)` is not one. Nothing ran. "
            + "Store the answer in a variable with a ```python block first, or call SUBMIT(answer=...) in one."
    }

    /// A plain-text `FINAL_VAR(name)` whose variable the REPL does not hold (or whose value could not be submitted).
    static func missingFinalVariable(_ name: String, runs: [CodeRun]) -> String {
        let problem = runs.last?.error.map { TextCut.firstLine($0.split(separator: "\n").last.map(String.init) ?? $0, limit: 200) }
        if let problem, problem.hasPrefix("NameError") {
            return "FINAL_VAR(\(name)) did not end the run: the REPL has no variable named `\(name)`. Assign the answer to it in a "
                + "```python block first (or call SUBMIT(answer=...) there), then finish."
        }
        return "FINAL_VAR(\(name)) did not end the run: \(problem ?? "the value was not submitted"). "
            + "Check the variable in a ```python block, or call SUBMIT(answer=...) there."
    }

    static func describe(_ failure: ExecResult.Failure) -> String {
        failure.traceback.isEmpty ? "\(failure.type): \(failure.message)" : failure.traceback.trimmingCharacters(in: .newlines)
    }

    private static func fenced(_ text: String) -> String {
        "```\n" + text.trimmingCharacters(in: .newlines) + "\n```"
    }
}

/// What the root model is told about an inline context: type, size, a preview and chunking advice.
enum ContextDescription {
    static let previewChars = 500

    static func text(_ text: String, promptChars: Int) -> String {
        let lines = text.reduce(into: 1) { count, character in if character == "\n" { count += 1 } }
        let preview = String(text.prefix(previewChars))
        return """
            `context` is a str of \(text.count) characters (about \(ModelWindows.estimatedTokens(text)) tokens) in \(lines) lines. \
            Its first \(preview.count) characters:
            ```
            \(preview)
            ```
            \(chunking(total: text.count, promptChars: promptChars))
            """
    }

    static func json(_ value: JSONValue, promptChars: Int) -> String {
        let size = value.displayText.count
        let shape: String = switch value {
        case let .object(members):
            "a dict with \(members.count) keys (first keys: \(members.keys.sorted().prefix(12).map { "\"\($0)\"" }.joined(separator: ", ")))"
        case let .array(items):
            "a list of \(items.count) items"
        case .string: "a str"
        default: "a JSON scalar"
        }
        return """
            `context` is \(shape), \(size) characters as JSON. Its JSON starts with:
            ```
            \(value.displayText.prefix(previewChars))
            ```
            \(chunking(total: size, promptChars: promptChars))
            """
    }

    static func chunking(total: Int, promptChars: Int) -> String {
        if total <= promptChars / 2 {
            return "It fits in one sub-call prompt (up to about \(promptChars) characters), but print only what you need to see."
        }
        let chunk = promptChars / 2
        let count = (total + chunk - 1) / chunk
        return "One sub-call prompt holds about \(promptChars) characters: split it into about \(count) chunks of ≤ \(chunk) "
            + "characters and query them with llm_query_batched."
    }
}
