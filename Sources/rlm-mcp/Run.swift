import RLMCommon
import ArgumentParser
import Foundation
import LanguageModels
import RLMConfig
import RLMEngine
import SandboxBackends

/// `rlm-mcp run`: one RLM run from the shell, with the same engine and sandbox as the MCP tools.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one RLM task from the shell and print the answer.",
        discussion: """
            The context is read from --context-file (a path, or - for standard input) and becomes the Python variable \
            `context`; a file ending in .json is parsed as JSON. Exit status: 0 when the run answered (submitted or \
            fallback), 1 when it ended without an answer, 2 for a configuration problem.
            """
    )

    @Option(help: "What to answer or do.")
    var task: String

    @Option(help: "File whose contents become `context` (- reads standard input).")
    var contextFile: String?

    @Flag(help: "Print the whole result as JSON: status, answer, usage and the trajectory.")
    var json = false

    @Option(help: "Root model (default RLM_MODEL).")
    var model: String?

    @Option(help: "Sub-call model (default RLM_SUBTASK_MODEL).")
    var subModel: String?

    @Option(help: "Root-model turns before the fallback answer (default RLM_MAX_ITERATIONS).")
    var maxIterations: Int?

    @Option(help: "USD the run may spend on models with a known price (default RLM_MAX_COST_USD, else no limit).")
    var maxCostUsd: Double?

    @Option(help: "The root model's context window in tokens; older iterations are compacted near it (default RLM_ROOT_CONTEXT_TOKENS, else by model name).")
    var rootContextTokens: Int?

    @OptionGroup var options: ConfigOptions

    func validate() throws {
        if let maxIterations, !(1...200).contains(maxIterations) {
            throw ValidationError("--max-iterations must be between 1 and 200 (got \(maxIterations))")
        }
        if let maxCostUsd, !(maxCostUsd > 0 && maxCostUsd.isFinite) {
            throw ValidationError("--max-cost-usd must be a positive amount in USD such as 0.50 (got \(maxCostUsd))")
        }
        if task.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--task must not be empty") }
    }

    func run() async throws {
        var flags = options.flagVariables
        flags["RLM_MODEL"] = model
        flags["RLM_SUBTASK_MODEL"] = subModel
        flags["RLM_MAX_ITERATIONS"] = maxIterations.map(String.init)
        flags["RLM_ROOT_CONTEXT_TOKENS"] = rootContextTokens.map(String.init)
        let config = try options.resolve(extraFlags: flags)
        for (model, source) in [(config.model, "RLM_MODEL"), (config.subtaskModel, "RLM_SUBTASK_MODEL")] {
            if let hint = config.setupHint(forModel: model, setBy: source) { fail("no language model is configured: \(hint)", status: 2) }
        }
        let context = try readContext()
        let logger = LogSetup.bootstrapStandardError(level: config.logLevel)
        let history = try HistorySetup.open(config: config, logger: logger)
        let engine = RLMEngine(config: config, logger: logger, recorder: history.runRecorder, prices: history.prices)
        let sandbox = RunSandbox(factory: SandboxBackends.factory(for: config, use: .singleRun))
        var limits = RunLimits(config: config)
        if let maxCostUsd { limits.maxCostUSD = maxCostUsd }
        let request = RunRequest(task: task, context: context, models: RunModels(root: config.model, sub: config.subtaskModel),
                                 limits: limits, origin: RunOrigin(tool: "run"))
        // Progress lines are for a person watching; a pipe or a log file gets only the result.
        let showProgress: RLMEngine.Progress = { @Sendable _, _, message in
            FileHandle.standardError.write(Data("rlm-mcp: \(message)\n".utf8))
        }
        let progress = isatty(STDERR_FILENO) == 1 ? showProgress : nil
        let result: RunResult
        do {
            result = try await engine.run(request, sandbox: { try await sandbox.get() }, progress: progress)
        } catch {
            await sandbox.close()
            await history.close()
            throw error
        }
        await sandbox.close()
        await history.close()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else if let answer = result.answer {
            print(answer.displayText)
        }
        switch result.status {
        case .submitted, .fallback:
            if result.status == .fallback { FileHandle.standardError.write(Data("rlm-mcp: out of iterations; this is the fallback answer\n".utf8)) }
        case .budgetExceeded, .error:
            fail("the run ended with \(result.status.rawValue): \(result.message ?? "no answer")", status: 1)
        }
    }

    private func readContext() throws -> RunContext {
        guard let contextFile else { return .none }
        let data: Data
        if contextFile == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: contextFile) else {
                fail("cannot read --context-file \(contextFile): no such readable file", status: 2)
            }
            data = contents
        }
        if contextFile.lowercased().hasSuffix(".json") {
            guard let value = JSONValue.parse(data) else { fail("--context-file \(contextFile) is not valid JSON", status: 2) }
            return .json(value)
        }
        guard let text = String(data: data, encoding: .utf8) else { fail("--context-file \(contextFile) is not UTF-8 text", status: 2) }
        return .text(text)
    }

    private func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("rlm-mcp: \(message)\n".utf8))
        Foundation.exit(status)
    }
}
