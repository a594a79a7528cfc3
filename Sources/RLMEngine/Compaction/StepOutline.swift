/// A one-line account of a step (what ran, what it printed, what failed), the material of a mechanical summary.
enum StepOutline {
    static func make(_ step: Step) -> String {
        var parts: [String] = []
        if step.blocks.isEmpty {
            parts.append(step.feedback == nil ? "answered without code" : "wrote no runnable code")
        }
        for run in step.blocks {
            var part = "ran `\(TextCut.firstLine(run.code, limit: 80))`"
            let printed = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if !printed.isEmpty {
                part += " → printed \(run.stdout.count) chars: \(TextCut.firstLine(printed, limit: 160))"
            }
            if let error = run.error {
                part += " → FAILED: \(TextCut.firstLine(error.split(separator: "\n").last.map(String.init) ?? error, limit: 160))"
            }
            if !run.subCalls.isEmpty { part += " (\(run.subCalls.count) sub-call\(run.subCalls.count == 1 ? "" : "s"))" }
            parts.append(part)
        }
        if let feedback = step.feedback, !step.blocks.isEmpty {
            parts.append("submission rejected: \(TextCut.firstLine(feedback, limit: 160))")
        }
        return "- Iteration \(step.iteration): " + parts.joined(separator: "; ")
    }
}
