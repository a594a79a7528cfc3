/// Finds the code a model reply asks to run: fenced blocks tagged python, py or repl (or untagged), in order.
enum CodeBlocks {
    static let runnableTags: Set<String> = ["python", "py", "python3", "repl", ""]

    static func extract(from reply: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        var fence = ""
        var skippingFence: String?
        for line in reply.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let skipping = skippingFence {
                if trimmed == skipping { skippingFence = nil }
            } else if var lines = current {
                if trimmed == fence {
                    let code = lines.joined(separator: "\n")
                    if !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { blocks.append(code) }
                    current = nil
                } else {
                    lines.append(line)
                    current = lines
                }
            } else if trimmed.hasPrefix("```") {
                let ticks = trimmed.prefix { $0 == "`" }
                let tag = trimmed.dropFirst(ticks.count).trimmingCharacters(in: .whitespaces).lowercased()
                // Other languages (bash, json, text) are shown to the model as examples, not run.
                if runnableTags.contains(tag) {
                    fence = String(ticks)
                    current = []
                } else {
                    skippingFence = String(ticks)
                }
            }
        }
        return blocks
    }

    /// A paper-style `FINAL(answer)` written as plain text outside any code block, or nil.
    static func plainTextFinal(in reply: String) -> String? {
        guard let start = reply.range(of: "FINAL("), let end = reply.range(of: ")", options: .backwards),
              start.upperBound <= end.lowerBound
        else { return nil }
        let before = reply[..<start.lowerBound]
        // Only at the start of a line: "the FINAL(x) function" in prose is not an answer.
        guard before.isEmpty || before.hasSuffix("\n") else { return nil }
        var answer = reply[start.upperBound..<end.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        if answer.count >= 2, let first = answer.first, first == answer.last, first == "\"" || first == "'" {
            answer = String(answer.dropFirst().dropLast())
        }
        return answer
    }

    /// What a plain-text `FINAL_VAR(...)` asked for.
    enum FinalVariable: Equatable {
        /// A Python identifier: the REPL variable whose value is the answer.
        case name(String)
        /// Anything else, as written, so the model can be told what is wrong with it.
        case invalid(String)
    }

    /// A paper-style `FINAL_VAR(name)` (the rlms protocol) written as plain text at the start of a line outside any code
    /// block, or nil. Quotes around the name are accepted, as the worker's FINAL_VAR("name") takes a string.
    static func plainTextFinalVar(in reply: String) -> FinalVariable? {
        for line in reply.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            // The whole line is the call: "FINAL_VAR(x) and more" is prose, not an answer.
            guard trimmed.hasPrefix("FINAL_VAR("), trimmed.hasSuffix(")") else { continue }
            var argument = trimmed.dropFirst("FINAL_VAR(".count).dropLast().trimmingCharacters(in: .whitespaces)
            if argument.count >= 2, let first = argument.first, first == argument.last, first == "\"" || first == "'" {
                argument = String(argument.dropFirst().dropLast())
            }
            return isIdentifier(argument) ? .name(argument) : .invalid(argument)
        }
        return nil
    }

    /// ASCII Python identifiers only: the name is spliced into code, so nothing else may pass.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
            && text.count <= 200
    }
}
