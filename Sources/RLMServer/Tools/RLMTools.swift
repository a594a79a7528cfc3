import Foundation
import History
import LanguageModels
import RLMCommon
import RLMConfig
import RLMEngine
import Sandboxes
import Telemetry

/// The four `rlm_*` tools: RLM runs (plain, data analysis, coding, decomposition) over the workspace's sandbox.
struct RLMTools: ToolGroup {
    let engine: RLMEngine
    let config: RLMConfig
    let activity: ServerActivity
    /// The run history, whose state decides at each call whether results carry a `resource_link` to their run
    /// (`rlm://runs/<run_id>`); nil when the history is off.
    var history: HistoryHandle?

    var tools: [ToolDefinition] { [execute, analyze, code, decompose] }

    // MARK: - Shared schema pieces

    private var knobs: [(String, Schema)] {
        [
            ("model", .string(description: "Root model for this run (default RLM_MODEL = \(config.model))", minLength: 1)),
            ("sub_model", .string(description: "Model for llm_query sub-calls (default RLM_SUBTASK_MODEL = \(config.subtaskModel))", minLength: 1)),
            ("max_iterations", .integer(description: "Root-model turns before the fallback answer (default \(config.maxIterations))", minimum: 1, maximum: 200)),
            ("max_llm_calls", .integer(description: "Model calls the run may make, sub-calls included (default \(config.maxLLMCalls))", minimum: 1, maximum: 100_000)),
            ("max_total_tokens", .integer(description: "Tokens the run may use in total (default \(config.maxTotalTokens.map(String.init) ?? "no limit"))", minimum: 1)),
            ("timeout_s", .integer(description: "Wall-clock budget of the run in seconds (default \(config.runTimeoutSeconds))", minimum: 1, maximum: 86_400)),
            ("max_cost_usd", .number(description: "USD the run may spend on models with a known price (default \(config.maxCostUSD.map { "\($0)" } ?? "no limit"))", minimum: 0)),
            ("include_trajectory", .boolean(description: "Return every step (replies, code, output, sub-calls) in `trajectory`")),
        ]
    }

    private static let contextInput: [(String, Schema)] = [
        ("context", .any(description: "The data to work over: text, or any JSON value. It becomes the Python variable `context`; it is never put into a prompt, so it may be far larger than the model's window")),
        ("context_path", .string(description: "Instead of `context`: a file already in the sandbox (sandbox_upload), loaded as text, or as JSON when it ends in .json", minLength: 1)),
    ]

    private static let usage: Schema = .object(properties: [
        ("models", .object(properties: [], description: "Per model: calls, input_tokens, output_tokens", closed: false)),
        ("total_tokens", .integer(minimum: 0)),
        ("cost_usd", .nullable(.number(description: "USD, when every model's price is known", minimum: 0))),
    ], required: ["models", "total_tokens"])

    private static let status: Schema = .string(description: "submitted: the code called SUBMIT; fallback: out of iterations, best answer from what was seen; budget_exceeded / error: see message",
                                                oneOf: ["submitted", "fallback", "budget_exceeded", "error"])

    private static let runOutput: [(String, Schema)] = [
        ("answer", .nullable(.any(description: "The submitted answer (any JSON value), or the fallback answer; null when there is none"))),
        ("status", status),
        ("message", .nullable(.string(description: "Why the run ended without an answer (the budget, the error)"))),
        ("submitted", .nullable(.object(properties: [], description: "Every field given to SUBMIT", closed: false))),
        ("iterations", .integer(minimum: 0)),
        ("llm_calls", .integer(minimum: 0)),
        ("usage", usage),
        ("duration_ms", .number(minimum: 0)),
        ("run_id", .string()),
        ("trajectory", .array(of: .any(), description: "Every step, when include_trajectory is true")),
    ]
    private static let runRequired = ["answer", "status", "message", "submitted", "iterations", "llm_calls", "usage", "duration_ms", "run_id"]

    // MARK: - Tools

    var execute: ToolDefinition {
        ToolDefinition(
            name: "rlm_execute",
            title: "Answer a task over a large context (RLM)",
            description: "Run a Recursive Language Model: a root model answers `task` by writing Python that runs in the session's "
                + "sandbox, where `context` is a variable it inspects, chunks and hands to sub-model calls (llm_query, "
                + "llm_query_batched, rlm_query) until it submits an answer. Use it for contexts too large to read directly "
                + "(long documents, logs, many files' text, big JSON). Returns the answer, how the run ended and what it cost.",
            input: .object(properties: [("task", .string(description: "What to answer or do", minLength: 1))] + Self.contextInput
                + [("max_depth", .integer(description: "Levels of rlm_query recursion (default \(config.maxDepth))", minimum: 0, maximum: 5))] + knobs,
                required: ["task"]),
            output: .object(properties: Self.runOutput, required: Self.runRequired),
            annotations: .init(title: "RLM run", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true),
            usesWorkspace: true,
            longRunning: true
        ) { arguments, context in
            let request = try runRequest(task: arguments.string("task")!, context: try runContext(arguments, value: "context", path: "context_path"),
                                         arguments: arguments)
            return try await run(request, as: "rlm_execute", arguments: arguments, context: context)
        }
    }

    var analyze: ToolDefinition {
        ToolDefinition(
            name: "rlm_analyze",
            title: "Answer a question about data (RLM)",
            description: "Run an RLM that answers `question` about `data` (CSV, JSON or text, inline or a sandbox file) by parsing "
                + "and computing over it in Python, with sub-model calls for free-text fields. Every figure is computed in code.",
            input: .object(properties: [
                ("question", .string(description: "The question about the data", minLength: 1)),
                ("data", .any(description: "The data: CSV or text as a string, or any JSON value")),
                ("data_path", .string(description: "Instead of `data`: a file already in the sandbox", minLength: 1)),
                ("format", .string(description: "How to read the data (default: from the file name or the data itself)", oneOf: ["csv", "json", "text"])),
            ] + knobs, required: ["question"]),
            output: .object(properties: Self.runOutput, required: Self.runRequired),
            annotations: .init(title: "RLM data analysis", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true),
            usesWorkspace: true,
            longRunning: true
        ) { arguments, context in
            var runContext = try runContext(arguments, value: "data", path: "data_path")
            let format = arguments.string("format") ?? Self.guessFormat(runContext)
            if format == "json", case let .text(text) = runContext {
                guard let value = JSONValue.parse(Data(text.utf8)) else {
                    throw ToolError("argument \"data\" is not valid JSON; fix it or set \"format\" to \"text\" or \"csv\"")
                }
                runContext = .json(value)
            }
            var request = try runRequest(task: arguments.string("question")!, context: runContext, arguments: arguments)
            request.instructions = engine.prompts.analysisInstructions(format: format)
            return try await run(request, as: "rlm_analyze", arguments: arguments, context: context)
        }
    }

    var code: ToolDefinition {
        ToolDefinition(
            name: "rlm_code",
            title: "Write code that passes tests (RLM)",
            description: "Run an RLM that writes Python to a specification: it develops the code in the sandbox, then submits it; "
                + "the server runs `tests` (asserts, test_* functions or unittest classes) against exactly the submitted code "
                + "and hands failures back until they pass or the budgets run out. Returns the code, whether it passed and the test output.",
            input: .object(properties: [
                ("task", .string(description: "The specification of the code to write", minLength: 1)),
                ("tests", .string(description: "Python test code; the solution's names are in scope and it is importable as `solution`", minLength: 1)),
                ("language", .string(description: "Only python is supported", oneOf: ["python"])),
            ] + knobs, required: ["task"]),
            output: .object(properties: [
                ("code", .nullable(.string(description: "The last code submitted; null when none was"))),
                ("passed", .boolean(description: "True when the tests passed against `code` (with no tests: when it ran without error)")),
                ("test_output", .string()),
                ("path", .nullable(.string(description: "Where the passing code was written in the sandbox"))),
                ("status", Self.status),
                ("message", .nullable(.string())),
                ("iterations", .integer(minimum: 0)),
                ("llm_calls", .integer(minimum: 0)),
                ("usage", Self.usage),
                ("duration_ms", .number(minimum: 0)),
                ("run_id", .string()),
                ("trajectory", .array(of: .any())),
            ], required: ["code", "passed", "test_output", "path", "status", "message", "iterations", "llm_calls", "usage", "duration_ms", "run_id"]),
            annotations: .init(title: "RLM coding", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true),
            usesWorkspace: true,
            longRunning: true
        ) { arguments, context in
            let base = try runRequest(task: arguments.string("task")!, context: .none, arguments: arguments)
            let job = CodeTask(specification: base.task, tests: arguments.string("tests"), models: base.models, limits: base.limits,
                               origin: Self.origin("rlm_code", context))
            let result = try await trackedRun("rlm_code") { try await engine.writeCode(job, sandbox: sandboxSource(context), progress: progressSink(context)) }
            var structured = try Self.value(of: result.run, includeTrajectory: arguments.bool("include_trajectory") == true)
            structured["code"] = result.code.map(JSONValue.string) ?? .null
            structured["passed"] = .bool(result.passed)
            structured["test_output"] = .string(result.testOutput)
            structured["path"] = result.path.map(JSONValue.string) ?? .null
            structured["answer"] = nil
            structured["submitted"] = nil
            let verdict = result.passed ? "passed" : (result.code == nil ? "no code submitted" : "FAILED")
            var text = "\(result.code ?? "")\n\ntests: \(verdict)"
            if !result.testOutput.isEmpty { text += "\n\(result.testOutput)" }
            return ToolOutput(text: text + "\n\n" + Self.footer(result.run), structured: .object(structured),
                              links: runLinks(result.run.runID, tool: "rlm_code", task: job.specification))
        }
    }

    var decompose: ToolDefinition {
        ToolDefinition(
            name: "rlm_decompose",
            title: "Split a task into subtasks and solve them in parallel (RLM)",
            description: "The root model splits `task` into at most `max_subtasks` independent subtasks; each is solved by its own "
                + "RLM run on the sub model over the same `context`, several at once; a final call combines their answers.",
            input: .object(properties: [("task", .string(description: "The task to split and solve", minLength: 1))] + Self.contextInput + [
                ("max_subtasks", .integer(description: "Most subtasks to plan (default 5)", minimum: 1, maximum: 20)),
            ] + knobs, required: ["task"]),
            output: .object(properties: [
                ("answer", .nullable(.any(description: "The combined answer; null when the run ended without one"))),
                ("status", Self.status),
                ("message", .nullable(.string())),
                ("subtasks", .array(of: .object(properties: [
                    ("task", .string()), ("answer", .nullable(.any())), ("status", Self.status), ("run_id", .string()),
                    ("iterations", .integer(minimum: 0)), ("message", .nullable(.string())),
                ], required: ["task", "answer", "status", "run_id", "iterations", "message"]))),
                ("llm_calls", .integer(minimum: 0)),
                ("usage", Self.usage),
                ("duration_ms", .number(minimum: 0)),
                ("run_id", .string()),
            ], required: ["answer", "status", "message", "subtasks", "llm_calls", "usage", "duration_ms", "run_id"]),
            annotations: .init(title: "RLM decomposition", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true),
            usesWorkspace: true,
            longRunning: true
        ) { arguments, context in
            let base = try runRequest(task: arguments.string("task")!, context: try runContext(arguments, value: "context", path: "context_path"),
                                      arguments: arguments)
            let job = DecomposeTask(task: base.task, context: base.context, maxSubtasks: arguments.int("max_subtasks") ?? 5,
                                    concurrency: min(config.subConcurrency, 8), models: base.models, limits: base.limits,
                                    origin: Self.origin("rlm_decompose", context))
            let result = try await trackedRun("rlm_decompose") { try await engine.decompose(job, sandbox: sandboxSource(context), progress: progressSink(context)) }
            var structured = Self.filling(try Self.jsonValue(result), nulls: ["answer", "message"])
            if case let .array(items)? = structured["subtasks"] {
                structured["subtasks"] = .array(items.map { item in
                    guard case let .object(fields) = item else { return item }
                    return .object(Self.filling(fields, nulls: ["answer", "message"]))
                })
            }
            let lines = result.subtasks.enumerated().map { "\($0 + 1). \($1.task) → \($1.status.rawValue)" }
            let text = (result.answer?.displayText ?? result.message ?? "(no answer)") + "\n\nsubtasks:\n" + lines.joined(separator: "\n")
                + "\n\n[\(result.status.rawValue) · \(result.llmCalls) LLM calls · \(result.usage.totalTokens) tokens · "
                + "\(Int(result.durationMS)) ms · \(result.runID)]"
            return ToolOutput(text: text, structured: .object(structured), links: runLinks(result.runID, tool: "rlm_decompose", task: job.task))
        }
    }

    // MARK: - Arguments

    /// The run every rlm_* tool starts from: models and budgets from the arguments, else the configuration.
    private func runRequest(task: String, context: RunContext, arguments: ToolArguments) throws -> RunRequest {
        let root = arguments.string("model"), sub = arguments.string("sub_model")
        let models = RunModels(root: root ?? config.model, sub: sub ?? config.subtaskModel,
                               rootSource: root == nil ? "RLM_MODEL" : "the model argument",
                               subSource: sub == nil ? "RLM_SUBTASK_MODEL" : "the sub_model argument")
        for (model, source) in [(models.root, models.rootSource), (models.sub, models.subSource)] {
            if let hint = config.setupHint(forModel: model, setBy: source) {
                throw ToolError("No language model is configured for this run. \(hint) Then restart the server (or set them in .env.local).")
            }
        }
        var limits = RunLimits(config: config)
        if let value = arguments.int("max_iterations") { limits.maxIterations = value }
        if let value = arguments.int("max_depth") { limits.maxDepth = value }
        if let value = arguments.int("max_llm_calls") { limits.maxLLMCalls = value }
        if let value = arguments.int("max_total_tokens") { limits.maxTotalTokens = value }
        if let value = arguments.int("timeout_s") { limits.timeout = .seconds(value) }
        if let value = arguments.double("max_cost_usd") { limits.maxCostUSD = value }
        return RunRequest(task: task, context: context, models: models, limits: limits)
    }

    private func runContext(_ arguments: ToolArguments, value: String, path: String) throws -> RunContext {
        switch (arguments.values[value], arguments.string(path)) {
        case (let given?, _?) where given != .null:
            throw ToolError("give either \"\(value)\" or \"\(path)\", not both")
        case let (_, file?):
            return .sandboxFile(path: file)
        case (nil, nil), (.null?, nil):
            return .none
        case let (.string(text)?, nil):
            return .text(text)
        case let (given?, nil):
            return .json(given)
        }
    }

    static func guessFormat(_ context: RunContext) -> String {
        switch context {
        case .json: return "json"
        case let .sandboxFile(path):
            let lower = path.lowercased()
            return lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") ? "csv" : lower.hasSuffix(".json") ? "json" : "text"
        case let .text(text):
            let head = text.prefix(2000).trimmingCharacters(in: .whitespacesAndNewlines)
            if head.hasPrefix("{") || head.hasPrefix("[") { return "json" }
            let lines = head.split(separator: "\n").prefix(5)
            let commas = lines.map { $0.filter { $0 == "," }.count }
            return lines.count >= 2 && (commas.first ?? 0) > 0 && Set(commas).count == 1 ? "csv" : "text"
        case .none: return "text"
        }
    }

    // MARK: - Plumbing

    /// Counts the run for rlm_status; a request the engine cannot run as given is the caller's to fix: an `isError`
    /// result, not a failed run.
    private func trackedRun<T: RunSummary>(_ tool: String, _ operation: () async throws -> T) async throws -> T {
        await activity.runStarted()
        let started = ContinuousClock.now
        do {
            let value = try await operation()
            await activity.runEnded()
            RLMMetrics.global.run(tool: tool, status: value.summaryStatus, duration: .now - started, iterations: value.summaryIterations)
            return value
        } catch let error as RunInputError {
            await activity.runEnded()
            throw ToolError(error.message)
        } catch {
            await activity.runEnded()
            RLMMetrics.global.run(tool: tool, status: error is CancellationError ? "cancelled" : "error", duration: .now - started, iterations: 0)
            throw error
        }
    }

    /// The run's origin for the history: the tool, a fingerprint of the workspace handle (never the handle) and the
    /// caller's owner fingerprint (nil without a bearer token).
    private static func origin(_ tool: String, _ context: ToolContext) -> RunOrigin {
        RunOrigin(tool: tool, workspace: RunResources.fingerprint(workspace: context.workspace.handle),
                  owner: context.owner.isEmpty ? nil : context.owner)
    }

    /// One engine run for `tool` (rlm_execute, rlm_analyze) in the caller's workspace, reported as the tool's output.
    private func run(_ request: RunRequest, as tool: String, arguments: ToolArguments, context: ToolContext) async throws -> ToolOutput {
        var request = request
        request.origin = Self.origin(tool, context)
        let result = try await trackedRun(tool) { try await engine.run(request, sandbox: sandboxSource(context), progress: progressSink(context)) }
        return try output(result, arguments: arguments, links: runLinks(result.runID, tool: tool, task: request.task))
    }

    /// A link while the history is open or opening (the run is written once it has opened); none once the open has
    /// failed, since that run is never recorded and the link would lead nowhere.
    func runLinks(_ runID: String, tool: String, task: String) -> [ResourceLink] {
        guard let history else { return [] }
        if case .failed = history.state { return [] }
        return [RunResources.link(runID: runID, tool: tool, task: task)]
    }

    private func sandboxSource(_ context: ToolContext) -> RLMEngine.SandboxSource {
        let workspace = context.workspace
        return { try await workspace.sandbox() }
    }

    private func progressSink(_ context: ToolContext) -> RLMEngine.Progress? {
        let progress = context.progress
        guard progress.isRequested else { return nil }
        return { step, total, message in await progress.report(Double(step), total: Double(total), message: message) }
    }

    private func output(_ result: RunResult, arguments: ToolArguments, links: [ResourceLink]) throws -> ToolOutput {
        let structured = try Self.value(of: result, includeTrajectory: arguments.bool("include_trajectory") == true)
        let answer = result.answer?.displayText ?? "(no answer)"
        let lead = result.status == .submitted || result.status == .fallback ? answer : "The run ended without an answer: \(result.message ?? result.status.rawValue)"
        return ToolOutput(text: lead + "\n\n" + Self.footer(result), structured: .object(structured), links: links)
    }

    static func footer(_ result: RunResult) -> String {
        var parts = [result.status.rawValue, "\(result.iterations) iteration\(result.iterations == 1 ? "" : "s")", "\(result.llmCalls) LLM calls",
                     "\(result.usage.totalTokens) tokens", "\(Int(result.durationMS)) ms", result.runID]
        if let message = result.message, result.status == .fallback || result.status == .submitted { parts.append(message) }
        return "[" + parts.joined(separator: " · ") + "]"
    }

    /// The run as structured content, with the keys the output schema requires present even when empty.
    static func value(of result: RunResult, includeTrajectory: Bool) throws -> [String: JSONValue] {
        var fields = filling(try jsonValue(result), nulls: ["answer", "message", "submitted"])
        if !includeTrajectory { fields["trajectory"] = nil }
        return fields
    }

    /// `fields` with each of `keys` present: the encoder leaves out nil values, but the output schemas require them.
    static func filling(_ fields: [String: JSONValue], nulls keys: [String]) -> [String: JSONValue] {
        var filled = fields
        for key in keys where filled[key] == nil { filled[key] = .null }
        return filled
    }

    static func jsonValue(_ value: some Encodable) throws -> [String: JSONValue] {
        guard case let .object(fields) = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value)) else {
            throw ToolError("internal error: a run result did not encode as a JSON object")
        }
        return fields
    }
}
