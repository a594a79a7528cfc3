import Foundation

/// The prompts the engine sends, kept as Markdown resources so they can be read and tuned without touching code;
/// `{{name}}` placeholders are filled per run.
public struct SystemPrompts: Sendable {
    public var root: String
    public var analysis: String
    public var coding: String

    public init(root: String, analysis: String, coding: String) {
        self.root = root
        self.analysis = analysis
        self.coding = coding
    }

    /// The prompts shipped with rlm-mcp.
    public static let bundled = SystemPrompts(root: resource("system_prompt"), analysis: resource("analysis"), coding: resource("coding"))

    private static func resource(_ name: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "md"), let text = try? String(contentsOf: url, encoding: .utf8) else {
            // The resources are part of the build; a missing one is a packaging bug, not a runtime condition.
            fatalError("rlm-mcp was built without its prompt resource \(name).md")
        }
        return text
    }

    func system(limits: RunLimits, depth: Int, subModel: String, subPromptChars: Int, instructions: String?) -> String {
        let recursion = depth < limits.maxDepth
            ? "runs a recursive RLM (its own REPL, with `context` set to the `context` argument) on the sub model and returns its answer. Use it for a sub-problem that itself needs code over a large text; it costs many calls, so prefer `llm_query` for simple reading."
            : "at this depth it is the same as `llm_query(task + context)`: no further recursion is available."
        return Self.fill(root, [
            "sub_model": subModel,
            "sub_prompt_chars": String(subPromptChars),
            "chunk_chars": String(max(1000, min(100_000, subPromptChars / 4))),
            "recursion": recursion,
            "max_output_chars": String(limits.maxOutputChars),
            "max_iterations": String(limits.maxIterations),
            "max_llm_calls": String(limits.maxLLMCalls),
            "exec_timeout_s": String(Int(limits.execTimeout.seconds)),
            "instructions": instructions ?? "",
        ])
    }

    /// The analysis strategy's addition to the system prompt.
    public func analysisInstructions(format: String) -> String {
        Self.fill(analysis, ["format": format])
    }

    /// The coding strategy's addition to the system prompt.
    public func codingInstructions(solutionPath: String, testsPath: String?) -> String {
        let tests = testsPath.map {
            "The tests are in the variable `tests` and the file `\($0)`; run them yourself with `exec(open('\($0)').read(), {})` after "
                + "`exec`-ing your solution into the same dict, and read any failure before you submit."
        } ?? "No tests were given: write a few checks of your own from the specification and run them before you submit."
        return Self.fill(coding, ["solution_path": solutionPath, "tests_note": tests])
    }

    static func fill(_ template: String, _ values: [String: String]) -> String {
        var text = template
        for (name, value) in values { text = text.replacingOccurrences(of: "{{\(name)}}", with: value) }
        return text
    }
}
