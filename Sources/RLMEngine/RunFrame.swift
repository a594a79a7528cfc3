import RLMCommon
import Foundation
import LanguageModels
import Sandboxes
import Telemetry

/// One run's state while it iterates: its conversation with the root model, its namespace in the sandbox and the
/// steps recorded so far (kept here so a run ended by its deadline still returns its trajectory).
actor RunFrame {
    nonisolated let engine: RLMEngine
    nonisolated let request: RunRequest
    nonisolated let depth: Int
    nonisolated let ledger: RunLedger
    nonisolated let sandbox: SandboxHandle
    nonisolated let check: SubmissionCheck?
    nonisolated let progress: RLMEngine.Progress?
    nonisolated let runID = RunIDs.make()
    /// Every run has a namespace (a worker) of its own, so concurrent runs and child runs never share variables.
    nonisolated var namespace: String { "rlm:\(runID)" }

    private let startedAt = ContinuousClock.now
    private var steps: [Step] = []
    private var iterations = 0
    private var contextLoad: Task<LoadedVariable, Error>?
    /// Where `context` was loaded from, to load it again into a fresh worker.
    private var contextFile: (path: String, kind: String)?
    /// The file this run uploaded the context to, deleted when the run ends (a sandbox file named by the caller is kept).
    private var uploadedContext: String?
    private var variablesSent = false
    /// The namespace's worker died (a timeout, a memory limit); the next code block gets a fresh one with `context` again.
    private var namespaceLost = false
    /// The conversation with the root model, compacted when it would outgrow the window.
    private var history = RootHistory(system: "", task: "")
    private var estimator = TokenEstimator()
    nonisolated let compactor: HistoryCompactor
    /// The compaction made for the request in flight, recorded on its step.
    private var pendingCompaction: Compaction?

    init(engine: RLMEngine, request: RunRequest, depth: Int, ledger: RunLedger, sandbox: SandboxHandle, check: SubmissionCheck?,
         progress: RLMEngine.Progress?) {
        self.engine = engine
        self.request = request
        self.depth = depth
        self.ledger = ledger
        self.sandbox = sandbox
        self.check = check
        self.progress = progress
        let windows = engine.windows
        // A child run's root is the sub model, so its window is the sub model's.
        let window = depth == 0 ? windows.rootContextTokens(of: request.models.root) : windows.contextTokens(of: request.models.root)
        compactor = HistoryCompactor(
            windowTokens: window, threshold: windows.compactionThreshold,
            summarizer: HistorySummarizer(model: engine.subModel, modelName: request.models.sub, modelSource: request.models.subSource,
                                          ledger: ledger, materialChars: min(48_000, windows.promptChars(of: request.models.sub)))
        )
    }

    // MARK: - The loop

    func iterate() async throws -> RunResult {
        let limits = request.limits
        recordStart()
        startLoadingContext()
        let shape: String
        do {
            shape = try await contextShape()
        } catch let error as SandboxError {
            switch error {
            case .notFound, .invalidPath: throw RunInputError(message: "the context file: \(error)")
            default: return try await sandboxFailure(error)
            }
        } catch {
            return try await sandboxFailure(error)
        }
        history = RootHistory(
            system: engine.prompts.system(limits: limits, depth: depth, subModel: request.models.sub,
                                          subPromptChars: engine.windows.promptChars(of: request.models.sub),
                                          instructions: request.instructions),
            task: "Task: \(request.task)\n\n\(shape)\n\nIteration 1 of \(limits.maxIterations). Start by looking at `context` with code."
        )
        for iteration in 1...limits.maxIterations {
            let iterationSpan = RLMTrace.startIteration(iteration, of: limits.maxIterations); defer { iterationSpan.end() }
            if let exhausted = await ledger.exhausted { return await finish(.budgetExceeded, message: exhausted) }
            let reply: ChatResponse
            switch try await iterationSpan.within({ try await askRoot(iteration: iteration) }) {
            case let .success(response): reply = response
            case let .failure(ending): return ending.result
            }
            iterations = iteration
            var step = Step(iteration: iteration, reply: reply.text, model: reply.model, inputTokens: reply.usage.inputTokens,
                            outputTokens: reply.usage.outputTokens, latencyMS: reply.latency.milliseconds, blocks: [], feedback: nil, durationMS: 0,
                            compaction: pendingCompaction)
            pendingCompaction = nil
            let stepStarted = ContinuousClock.now
            var blocks = CodeBlocks.extract(from: reply.text)
            var submission: [String: JSONValue]?
            var observation: String
            let finalVariable = blocks.isEmpty ? CodeBlocks.plainTextFinalVar(in: reply.text) : nil
            // Run as the worker's own FINAL_VAR, so the value is the REPL's, exactly as SUBMIT would send it.
            if case let .name(name) = finalVariable { blocks = ["FINAL_VAR(\"\(name)\")"] }
            if case let .invalid(argument) = finalVariable {
                observation = Observation.invalidFinalVariable(argument)
            } else if blocks.isEmpty {
                if let final = CodeBlocks.plainTextFinal(in: reply.text) {
                    submission = ["answer": .string(final)]
                    observation = ""
                } else {
                    observation = "Your reply had no ```python code block, so nothing ran. Write code in a ```python block; "
                        + "finish by calling SUBMIT(answer=...) inside one."
                }
            } else {
                await progress?(iteration, limits.maxIterations, "iteration \(iteration)/\(limits.maxIterations): running code")
                do {
                    let (runs, submitted, skipped) = try await iterationSpan.within { try await runBlocks(blocks) }
                    step.blocks = runs
                    submission = submitted
                    observation = Observation.render(runs, skipped: skipped)
                    if case let .name(name) = finalVariable, submitted == nil {
                        observation = Observation.missingFinalVariable(name, runs: runs)
                        step.feedback = observation
                    }
                } catch {
                    step.durationMS = stepStarted.millisecondsAgo
                    appendStep(step)
                    return try await sandboxFailure(error)
                }
            }
            if let fields = submission {
                let decision: SubmissionVerdict
                do {
                    decision = try await verdict(on: fields)
                } catch {
                    step.durationMS = stepStarted.millisecondsAgo
                    appendStep(step)
                    return try await sandboxFailure(error)
                }
                switch decision {
                case let .accept(extra):
                    step.durationMS = stepStarted.millisecondsAgo
                    appendStep(step)
                    return await finish(.submitted, submitted: fields.merging(extra) { _, new in new })
                case let .reject(feedback):
                    step.feedback = feedback
                    observation = observation.isEmpty ? feedback : "\(observation)\n\n\(feedback)"
                }
            } else if blocks.isEmpty {
                step.feedback = observation
            }
            step.durationMS = stepStarted.millisecondsAgo
            appendStep(step)
            if let exhausted = await ledger.exhausted { return await finish(.budgetExceeded, message: exhausted) }
            history.exchanges.append(RootHistory.Exchange(
                iteration: iteration, reply: reply.text, observation: observation + "\n\n" + (await statusLine(after: iteration)),
                outline: StepOutline.make(step)
            ))
        }
        return try await fallback()
    }

    /// Runs a reply's code blocks in order in the run's namespace, stopping at a submission or at the first error
    /// (later blocks usually depend on the failed one).
    private func runBlocks(_ blocks: [String]) async throws -> (runs: [CodeRun], submitted: [String: JSONValue]?, skipped: Int) {
        let sandbox = try await sandbox.get()
        _ = try await contextLoad?.value
        if namespaceLost { try await reload(into: sandbox) }
        let log = SubCallLog()
        let broker = SubCallBroker(engine: engine, frame: self, log: log)
        var runs: [CodeRun] = []
        for (index, code) in blocks.enumerated() {
            let timeout = min(request.limits.execTimeout, await ledger.remainingTime)
            let result: ExecResult
            do {
                result = try await RLMTrace.codeBlock(index: index, code: code) { try await sandbox.execute(ExecRequest(
                    code: code, namespace: .named(namespace), variablesJSON: pendingVariables(), timeout: timeout,
                    maxOutputChars: request.limits.maxOutputChars, onSubCall: RLMTrace.carryingContext { await broker.handle($0) }
                )) }
            } catch let SandboxError.workerFailed(message) {
                // Code that crashes its worker is the model's to fix, like an exception: it reads why and goes on.
                result = ExecResult(stdout: "", stderr: "", error: .init(type: "WorkerDied", message: message, traceback: ""),
                                    submittedJSON: nil, truncated: false, durationMS: 0)
            }
            if let error = result.error, error.type == "Timeout" || error.type == "WorkerDied" { namespaceLost = true }
            let submitted = result.submittedJSON.flatMap(JSONValue.parse).flatMap { value -> [String: JSONValue]? in
                if case let .object(fields) = value { return fields }
                return nil
            }
            runs.append(CodeRun(
                code: code, stdout: result.stdout, stderr: result.stderr, error: result.error.map(Observation.describe),
                submitted: submitted != nil, truncated: result.truncated, durationMS: result.durationMS, subCalls: await log.drain()
            ))
            if let submitted { return (runs, submitted, blocks.count - index - 1) }
            if result.error != nil { return (runs, nil, blocks.count - index - 1) }
        }
        return (runs, nil, 0)
    }

    /// Gives a fresh worker what the lost one had at the start: `context` and the run's variables.
    private func reload(into sandbox: any Sandbox) async throws {
        namespaceLost = false
        variablesSent = false
        if let file = contextFile {
            _ = try await sandbox.loadVariable("context", fromFile: file.path, kind: file.kind, namespace: namespace, timeout: request.limits.execTimeout)
        }
    }

    /// The run's extra variables, sent with the first execution only.
    private func pendingVariables() -> Data? {
        guard !variablesSent else { return nil }
        variablesSent = true
        var variables = request.variables
        if request.context == .none { variables["context"] = JSONValue.null }
        return variables.isEmpty ? nil : try? JSONEncoder().encode(variables)
    }

    private func verdict(on fields: [String: JSONValue]) async throws -> SubmissionVerdict {
        guard let check else { return .accept(fields: [:]) }
        return try await check(fields, try await sandbox.get())
    }

    /// Out of iterations: one last call asks the root model for its best answer from what it has seen.
    private func fallback() async throws -> RunResult {
        let ask = """
            You have used all \(request.limits.maxIterations) iterations. Do not write code. Reply now with your best final \
            answer to the task, as plain text, based only on what the code output has shown; say what is uncertain.
            """
        switch try await askRoot(iteration: nil, extra: ask) {
        case let .success(response): return await finish(.fallback, answer: .string(response.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        case let .failure(ending): return ending.result
        }
    }

    /// One root-model call for `iteration` (nil: the fallback, which adds `extra`), with the history fitted to the
    /// window first; a spent budget, a window too small or a failed call becomes the run's ending.
    private func askRoot(iteration: Int?, extra: String? = nil) async throws -> Result<ChatResponse, RunEnding> {
        let total = request.limits.maxIterations
        let label = iteration.map { "iteration \($0)/\(total)" } ?? "out of iterations"
        // A spent call budget ends the run (just below) without compacting first.
        if await ledger.callsLeft > 0,
           case let .failure(ending) = await fitHistory(iteration: iteration ?? total, label: label, extra: extra) { return .failure(ending) }
        await progress?(iteration ?? total, total, iteration == nil ? "out of iterations: asking for a final answer" : "\(label): asking the root model")
        do {
            try await ledger.reserve(1)
        } catch {
            return .failure(RunEnding(result: await finish(.budgetExceeded, message: error.message)))
        }
        let messages = history.messages(extra: extra)
        // Prompt and answer share the window: a small window leaves the answer less than the usual 4,096 tokens.
        let answerRoom = min(4096, max(256, compactor.windowTokens - estimator.tokens(messages)))
        do {
            let response = try await engine.rootModel.complete(ChatRequest(
                model: request.models.root, messages: messages, maxTokens: answerRoom, modelSource: request.models.rootSource
            ))
            await ledger.record(response)
            estimator.calibrate(sent: messages, reportedInputTokens: response.usage.inputTokens)
            return .success(response)
        } catch {
            try Task.checkCancellation()
            return .failure(RunEnding(result: await finish(.error, message: "the root model call failed: \(error.description)")))
        }
    }

    /// The one place the loop compacts: folds older iterations or cuts the latest when the next request would pass the
    /// threshold, and ends the run when even the system prompt and task cannot fit.
    private func fitHistory(iteration: Int, label: String, extra: String?) async -> Result<Void, RunEnding> {
        switch compactor.decide(history, extra: extra, estimator: estimator) {
        case .fits:
            return .success(())
        case let .tooSmall(fixedTokens):
            let source = depth == 0 && engine.windows.rootOverride != nil ? "RLM_ROOT_CONTEXT_TOKENS" : "by the model's name"
            return .failure(RunEnding(result: await finish(.error, message: """
                the root model's context window is too small: the system prompt and task alone take about \(fixedTokens) tokens, \
                and a request may take \(compactor.limit) (\(Int(compactor.threshold * 100)) % of \(compactor.windowTokens) tokens, \
                \(source)); raise RLM_ROOT_CONTEXT_TOKENS (or RLM_COMPACTION_THRESHOLD) or shorten the task
                """)))
        case let .compact(fold, cutLatestTo):
            await progress?(iteration, request.limits.maxIterations, "\(label): compacting history")
            let (compacted, record) = await compactor.compact(
                history, fold: fold, cutLatestTo: cutLatestTo, iteration: iteration, extra: extra, estimator: estimator,
                inventory: { [self] in await self.replInventory() }
            )
            history = compacted
            pendingCompaction = record
            return .success(())
        }
    }

    /// The REPL's variables, listed by code run in the run's namespace.
    private func replInventory() async -> ReplInventory {
        if namespaceLost { return .unavailable("the worker running the code was restarted; the next block has only `context`") }
        do {
            let sandbox = try await sandbox.get()
            _ = try await contextLoad?.value
            let result = try await sandbox.execute(ExecRequest(
                code: ReplInventory.snippet, namespace: .named(namespace), variablesJSON: pendingVariables(),
                timeout: min(.seconds(30), await ledger.remainingTime), maxOutputChars: 40_000
            ))
            if let error = result.error { return .unavailable("listing them failed: \(error.type): \(error.message)") }
            return ReplInventory.parse(stdout: result.stdout)
        } catch {
            return .unavailable("listing them failed: \(error)")
        }
    }

    private func sandboxFailure(_ error: Error) async throws -> RunResult {
        try Task.checkCancellation()
        if error is CancellationError { throw error }
        return await finish(.error, message: "the sandbox failed: \(error)")
    }

    private func statusLine(after iteration: Int) async -> String {
        let left = request.limits.maxIterations - iteration
        let seconds = Int(await ledger.remainingTime.seconds)
        return "[iteration \(iteration + 1) of \(request.limits.maxIterations) next · \(await ledger.callsLeft) LLM calls and \(seconds) s left] "
            + (left == 1 ? "This is your last iteration: SUBMIT your best verified answer now." : "Continue, or SUBMIT(answer=...) once the output supports it.")
    }

    // MARK: - Context

    private func startLoadingContext() {
        let request = request, sandbox = sandbox, namespace = namespace, runID = runID
        Task { await sandbox.prefetch() }
        // Inline contexts travel as one file upload, then load into the namespace; a sandbox file only loads.
        let file: (path: String, upload: Data?, kind: String)
        switch request.context {
        case .none:
            return
        case let .text(text):
            file = (".rlm/\(runID)-context.txt", Data(text.utf8), "text")
        case let .json(value):
            file = (".rlm/\(runID)-context.json", (try? JSONEncoder().encode(value)) ?? Data("null".utf8), "json")
        case let .sandboxFile(path):
            file = (path, nil, path.lowercased().hasSuffix(".json") ? "json" : "text")
        }
        let timeout = request.limits.execTimeout
        contextFile = (file.path, file.kind)
        if file.upload != nil { uploadedContext = file.path }
        contextLoad = Task {
            let box = try await sandbox.get()
            if let data = file.upload { _ = try await box.uploadFile(path: file.path, data: data) }
            return try await box.loadVariable("context", fromFile: file.path, kind: file.kind, namespace: namespace, timeout: timeout)
        }
    }

    /// What the root model is told about `context`: its type, size, a preview and how to chunk it — never the context.
    private func contextShape() async throws -> String {
        let promptChars = engine.windows.promptChars(of: request.models.sub)
        switch request.context {
        case .none:
            return "No context was given (`context` is None): solve the task with code and sub-calls."
        case let .text(text):
            return ContextDescription.text(text, promptChars: promptChars)
        case let .json(value):
            return ContextDescription.json(value, promptChars: promptChars)
        case let .sandboxFile(path):
            let loaded = try await contextLoad!.value
            return "`context` was loaded from the sandbox file \(path): a \(loaded.type) of length \(loaded.length). "
                + "Look at it with code before planning."
        }
    }

    // MARK: - Ending

    func finish(_ status: RunStatus, answer: JSONValue? = nil, submitted: [String: JSONValue]? = nil, message: String? = nil) async -> RunResult {
        let result = RunResult(
            runID: runID, status: status, answer: answer ?? submitted.map(Self.answer(from:)), submitted: submitted, message: message,
            iterations: iterations, llmCalls: await ledger.calls, usage: await ledger.usage, durationMS: startedAt.millisecondsAgo,
            trajectory: steps
        )
        engine.recorder.record(.finished(result.endEvent))
        finished = true
        return result
    }

    // MARK: - Run history (every call to the recorder is here)

    private var finished = false

    private func recordStart() {
        engine.recorder.record(.started(RunStart(runID: runID, origin: request.origin, task: request.task, models: request.models,
                                                 limits: request.limits, context: request.context, startedAt: Date())))
    }

    private func appendStep(_ step: Step) {
        steps.append(step)
        engine.recorder.record(.step(runID: runID, step))
    }

    /// A run cancelled before it finished is still ended on record, so it never stays `running`.
    private func recordCancelled() async {
        guard !finished else { return }
        finished = true
        engine.recorder.record(.finished(RunEnd(runID: runID, status: .error, message: "the run stopped before it finished (cancelled, or its input was refused)", iterations: iterations,
                                                llmCalls: await ledger.calls, usage: await ledger.usage,
                                                durationMS: startedAt.millisecondsAgo, endedAt: Date())))
    }

    /// The `answer` field, else the only field, else every field.
    static func answer(from fields: [String: JSONValue]) -> JSONValue {
        if let answer = fields["answer"] { return answer }
        if fields.count == 1, let only = fields.values.first { return only }
        return .object(fields)
    }

    /// Frees the run's namespace (its worker) and deletes the context file it uploaded, if the run got that far.
    func release() async {
        await recordCancelled()
        contextLoad?.cancel()
        guard let sandbox = await sandbox.acquired else { return }
        await sandbox.resetNamespace(namespace)
        if let uploadedContext { try? await sandbox.removeFile(path: uploadedContext) }
    }
}

/// A run that ended early, carried out of a helper.
struct RunEnding: Error {
    let result: RunResult
}

/// Run ids: `run_` and 48 random bits in hex, enough to tell runs apart in logs and trajectories.
enum RunIDs {
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bits = (generator.next() as UInt64) & 0xFFFF_FFFF_FFFF
        let hex = String(bits, radix: 16)
        return "run_" + String(repeating: "0", count: 12 - hex.count) + hex
    }
}
