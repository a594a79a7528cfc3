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
    var contextLoad: Task<LoadedVariable, Error>?
    /// Where `context` was loaded from, to load it again into a fresh worker.
    var contextFile: ContextFile?
    /// The file this run uploaded the context to, deleted when the run ends (a sandbox file named by the caller is kept).
    var uploadedContext: String?
    var variablesSent = false
    /// The namespace's worker died (a timeout, a memory limit); the next code block gets a fresh one with `context` again.
    var namespaceLost = false
    /// The conversation with the root model, compacted when it would outgrow the window.
    var history = RootHistory(system: "", task: "")
    var estimator = TokenEstimator()
    nonisolated let compactor: HistoryCompactor
    /// The compaction made for the request in flight, recorded on its step.
    var pendingCompaction: Compaction?

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

    /// What one iteration leads to: another iteration (with the exchange the model reads next), or the run's end.
    enum StepOutcome {
        case `continue`(RootHistory.Exchange)
        case finished(RunResult)
    }

    func iterate() async throws -> RunResult {
        recordStart()
        startLoadingContext()
        if let ending = try await startHistory() { return ending }
        for iteration in 1...request.limits.maxIterations {
            let iterationSpan = RLMTrace.startIteration(iteration, of: request.limits.maxIterations); defer { iterationSpan.end() }
            if let exhausted = await ledger.exhausted { return await finish(.budgetExceeded, message: exhausted) }
            switch try await iterationSpan.within({ try await step(iteration) }) {
            case let .continue(exchange): history.exchanges.append(exchange)
            case let .finished(result): return result
            }
        }
        if let exhausted = await ledger.exhausted { return await finish(.budgetExceeded, message: exhausted) }
        return try await fallback()
    }

    /// One iteration: ask the root model, act on its reply, record the step (here and nowhere else).
    private func step(_ iteration: Int) async throws -> StepOutcome {
        let reply: ChatResponse
        switch try await askRoot(iteration: iteration) {
        case let .success(response): reply = response
        case let .failure(ending): return .finished(ending.result)
        }
        iterations = iteration
        var step = Step(iteration: iteration, reply: reply.text, model: reply.model, inputTokens: reply.usage.inputTokens,
                        outputTokens: reply.usage.outputTokens, latencyMS: reply.latency.milliseconds, blocks: [], feedback: nil, durationMS: 0,
                        compaction: pendingCompaction)
        step.finishReason = reply.finishReason
        step.attempts = reply.attempts
        pendingCompaction = nil
        let started = ContinuousClock.now
        let response = await respond(to: reply.text, iteration: iteration, step: &step)
        step.durationMS = started.millisecondsAgo
        appendStep(step)
        switch response {
        case let .failed(error):
            return .finished(try await sandboxFailure(error))
        case let .accepted(fields):
            return .finished(await finish(.submitted, submitted: fields))
        case let .observed(observation):
            return .continue(RootHistory.Exchange(
                iteration: iteration, reply: reply.text, observation: observation + "\n\n" + (await statusLine(after: iteration)),
                outline: StepOutline.make(step)
            ))
        }
    }

    /// How a reply was acted on.
    private enum Response {
        /// The run goes on; the model reads this next.
        case observed(String)
        /// A submission was accepted; these are its fields, the check's included.
        case accepted([String: JSONValue])
        /// The sandbox failed under the run.
        case failed(any Error)
    }

    /// Runs the reply's code (or its plain-text `FINAL(...)` / `FINAL_VAR(name)`), checks a submission, and fills in
    /// the step's blocks and feedback.
    private func respond(to reply: String, iteration: Int, step: inout Step) async -> Response {
        var blocks = CodeBlocks.extract(from: reply)
        let finalVariable = blocks.isEmpty ? CodeBlocks.plainTextFinalVar(in: reply) : nil
        var submission: [String: JSONValue]?
        var observation: String
        switch finalVariable {
        case let .invalid(argument):
            step.feedback = Observation.invalidFinalVariable(argument)
            return .observed(step.feedback!)
        case let .name(name):
            // Run as the worker's own FINAL_VAR, so the value is the REPL's, exactly as SUBMIT would send it.
            blocks = ["FINAL_VAR(\"\(name)\")"]
        case nil:
            break
        }
        if blocks.isEmpty {
            guard let final = CodeBlocks.plainTextFinal(in: reply) else {
                step.feedback = Observation.noCodeBlock
                return .observed(Observation.noCodeBlock)
            }
            submission = ["answer": .string(final)]
            observation = ""
        } else {
            let limits = request.limits
            await progress?(iteration, limits.maxIterations, "iteration \(iteration)/\(limits.maxIterations): running code")
            let ran: BlockRuns
            do {
                ran = try await runBlocks(blocks)
            } catch {
                return .failed(error)
            }
            step.blocks = ran.runs
            submission = ran.submitted
            observation = Observation.render(ran.runs, skipped: ran.skipped, workerLost: ran.workerLost)
            if case let .name(name) = finalVariable, ran.submitted == nil {
                observation = Observation.missingFinalVariable(name, runs: ran.runs)
                step.feedback = observation
            }
        }
        guard let fields = submission else { return .observed(observation) }
        do {
            switch try await verdict(on: fields) {
            case let .accept(extra):
                return .accepted(fields.merging(extra) { _, new in new })
            case let .reject(feedback):
                step.feedback = feedback
                return .observed(observation.isEmpty ? feedback : "\(observation)\n\n\(feedback)")
            }
        } catch {
            return .failed(error)
        }
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
        let messages = history.messages(extra: extra)
        // Prompt and answer share the window: a small window leaves the answer less than the usual 4,096 tokens.
        let answerRoom = min(4096, max(256, compactor.windowTokens - estimator.tokens(messages)))
        let call = ChatRequest(model: request.models.root, messages: messages, maxTokens: answerRoom, modelSource: request.models.rootSource)
        switch try await engine.callRoot(call, ledger: ledger) {
        case let .success(response):
            estimator.calibrate(sent: messages, reportedInputTokens: response.usage.inputTokens)
            return .success(response)
        case let .failure(ending):
            return .failure(RunEnding(result: await finish(ending.status, message: ending.message)))
        }
    }

    func sandboxFailure(_ error: Error) async throws -> RunResult {
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
        "run_" + RandomID.hex(bytes: 6)
    }
}
