import RLMCommon
import Foundation
import LanguageModels
import Sandboxes

/// `rlm_decompose`: the root model splits a task into independent subtasks, each is solved by its own RLM run on the
/// sub model (concurrently, under a bound), and one synthesis call combines their answers.
public struct DecomposeTask: Sendable {
    public var task: String
    public var context: RunContext
    public var maxSubtasks: Int
    /// How many subtask runs go at once.
    public var concurrency: Int
    public var models: RunModels
    public var limits: RunLimits
    public var origin: RunOrigin

    public init(task: String, context: RunContext, maxSubtasks: Int, concurrency: Int = 4, models: RunModels, limits: RunLimits,
                origin: RunOrigin = .init(tool: "rlm_decompose")) {
        self.origin = origin
        self.task = task
        self.context = context
        self.maxSubtasks = maxSubtasks
        self.concurrency = concurrency
        self.models = models
        self.limits = limits
    }
}

public struct DecomposeResult: Sendable, Encodable {
    public struct Subtask: Sendable, Encodable {
        public var task: String
        public var answer: JSONValue?
        public var status: RunStatus
        public var runID: String
        public var iterations: Int
        public var message: String?

        enum CodingKeys: String, CodingKey { case task, answer, status, runID = "run_id", iterations, message }
    }

    public var runID: String
    public var status: RunStatus
    public var answer: JSONValue?
    public var message: String?
    public var subtasks: [Subtask]
    public var llmCalls: Int
    public var usage: Usage
    public var durationMS: Double

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", status, answer, message, subtasks, llmCalls = "llm_calls", usage, durationMS = "duration_ms"
    }
}

extension RLMEngine {
    public func decompose(_ job: DecomposeTask, sandbox: @escaping SandboxSource, progress: Progress? = nil) async throws -> DecomposeResult {
        let started = ContinuousClock.now
        let runID = RunIDs.make()
        let ledger = RunLedger(limits: job.limits, startedAt: started, prices: prices)
        let handle = SandboxHandle(source: sandbox)
        recorder.record(.started(RunStart(runID: runID, origin: job.origin, task: job.task, models: job.models, limits: job.limits,
                                          context: job.context, startedAt: Date())))
        let result: DecomposeResult
        do {
            result = try await Self.withDeadline(ledger.deadline) {
                try await decompose(job, runID: runID, ledger: ledger, handle: handle, progress: progress)
            }
        } catch is DeadlineReached {
            result = DecomposeResult(runID: runID, status: .budgetExceeded, message: "budget exhausted: timeout_s=\(Int(job.limits.timeout.seconds)) reached",
                                     subtasks: [], llmCalls: await ledger.calls, usage: await ledger.usage, durationMS: started.millisecondsAgo)
        } catch {
            recorder.record(.finished(RunEnd(runID: runID, status: .error, message: "the run was cancelled or failed: \(error)", iterations: 0,
                                             llmCalls: await ledger.calls, usage: await ledger.usage, durationMS: started.millisecondsAgo, endedAt: Date())))
            await removeSharedContext(job.context, runID: runID, handle: handle)
            throw error
        }
        recorder.record(.finished(RunEnd(runID: runID, status: result.status, answer: result.answer, message: result.message, iterations: 0,
                                         llmCalls: result.llmCalls, usage: result.usage, durationMS: result.durationMS, endedAt: Date())))
        await removeSharedContext(job.context, runID: runID, handle: handle)
        return result
    }

    /// Where an inline context is put for the subtasks to share; nil for a sandbox file (the caller's, kept) or none.
    private func sharedContextPath(_ context: RunContext, runID: String) -> String? {
        ContextFile(context, runID: runID).flatMap { $0.upload == nil ? nil : $0.path }
    }

    private func removeSharedContext(_ context: RunContext, runID: String, handle: SandboxHandle) async {
        guard let path = sharedContextPath(context, runID: runID), let sandbox = await handle.acquired else { return }
        try? await sandbox.removeFile(path: path)
    }

    private func decompose(_ job: DecomposeTask, runID: String, ledger: RunLedger, handle: SandboxHandle, progress: Progress?) async throws -> DecomposeResult {
        let started = ContinuousClock.now
        let context = sharedContext(job.context, runID: runID, handle: handle)
        func result(_ status: RunStatus, answer: JSONValue? = nil, message: String? = nil, subtasks: [DecomposeResult.Subtask] = []) async -> DecomposeResult {
            DecomposeResult(runID: runID, status: status, answer: answer, message: message, subtasks: subtasks, llmCalls: await ledger.calls,
                            usage: await ledger.usage, durationMS: started.millisecondsAgo)
        }

        await progress?(0, job.maxSubtasks + 2, "planning up to \(job.maxSubtasks) subtasks")
        let plan: [String]
        switch try await askRoot(ledger: ledger, models: job.models, prompt: planningPrompt(job)) {
        case let .success(text): plan = Self.parsePlan(text, limit: job.maxSubtasks) ?? [job.task]
        case let .failure(ending): return await result(ending.status, message: ending.message)
        }

        let total = plan.count + 2
        let sharedContext: RunContext
        do {
            sharedContext = try await context.value
        } catch {
            try Task.checkCancellation()
            return await result(.error, message: "the sandbox failed while preparing the context: \(error)")
        }
        let finished = Counter()
        let subtasks = try await withThrowingTaskGroup(of: (Int, DecomposeResult.Subtask).self) { group in
            var results = [DecomposeResult.Subtask?](repeating: nil, count: plan.count)
            var next = 0
            func start(_ index: Int) {
                let request = RunRequest(
                    task: "\(plan[index])\n\n(This is one part of a larger task: \(job.task))", context: sharedContext,
                    models: RunModels(root: job.models.sub, sub: job.models.sub, rootSource: job.models.subSource, subSource: job.models.subSource),
                    limits: job.limits, origin: RunOrigin(tool: "rlm_decompose.subtask", workspace: job.origin.workspace, parentRunID: runID, owner: job.origin.owner)
                )
                group.addTask {
                    let run = try await runLoop(request, depth: 0, ledger: ledger, sandbox: handle, progress: nil)
                    let done = await finished.increment()
                    await progress?(done, total, "subtask \(done)/\(plan.count) done")
                    return (index, .init(task: plan[index], answer: run.answer, status: run.status, runID: run.runID,
                                         iterations: run.iterations, message: run.message))
                }
            }
            while next < min(max(1, job.concurrency), plan.count) { start(next); next += 1 }
            for try await (index, subtask) in group {
                results[index] = subtask
                if next < plan.count { start(next); next += 1 }
            }
            return results.compactMap { $0 }
        }

        await progress?(total - 1, total, "combining \(subtasks.count) subtask answers")
        switch try await askRoot(ledger: ledger, models: job.models, prompt: synthesisPrompt(job.task, subtasks)) {
        case let .success(text):
            await progress?(total, total, "done")
            return await result(.submitted, answer: .string(text), subtasks: subtasks)
        case let .failure(ending):
            return await result(ending.status, message: ending.message, subtasks: subtasks)
        }
    }

    /// Puts an inline context into the sandbox once (overlapping the planning call), so that every subtask run loads
    /// the same file instead of uploading its own copy.
    private func sharedContext(_ context: RunContext, runID: String, handle: SandboxHandle) -> Task<RunContext, Error> {
        Task {
            guard let file = ContextFile(context, runID: runID), let data = file.upload else { return context }
            _ = try await handle.get().uploadFile(path: file.path, data: data)
            return .sandboxFile(path: file.path)
        }
    }

    private func planningPrompt(_ job: DecomposeTask) -> String {
        let shape: String = switch job.context {
        case .none: "There is no context."
        case let .text(text): ContextDescription.text(text, promptChars: windows.promptChars(of: job.models.sub))
        case let .json(value): ContextDescription.json(value, promptChars: windows.promptChars(of: job.models.sub))
        case let .sandboxFile(path): "The context is the sandbox file \(path)."
        }
        return """
            Split this task into at most \(job.maxSubtasks) independent subtasks that can be solved in parallel and whose \
            answers together answer the task. Each subtask is solved by a separate agent that can run Python over the same \
            context, so phrase each one as a complete, self-contained instruction. Use fewer subtasks when the task is simple.

            Task: \(job.task)

            About the context: \(shape)

            Reply with only a JSON array of strings, one per subtask.
            """
    }

    private func synthesisPrompt(_ task: String, _ subtasks: [DecomposeResult.Subtask]) -> String {
        let parts = subtasks.enumerated().map { index, subtask in
            "Subtask \(index + 1): \(subtask.task)\nStatus: \(subtask.status.rawValue)\nAnswer: \(subtask.answer?.displayText ?? subtask.message ?? "(none)")"
        }
        return """
            Combine the answers of these subtasks into one answer to the task. Use only what the answers say; where they \
            disagree or a subtask failed, say so.

            Task: \(task)

            \(parts.joined(separator: "\n\n"))

            Reply with the final answer only.
            """
    }

    /// The subtasks in a planning reply: the first JSON array of strings in it, at most `limit` of them.
    static func parsePlan(_ reply: String, limit: Int) -> [String]? {
        guard let open = reply.firstIndex(of: "["), let close = reply.lastIndex(of: "]"), open < close,
              case let .array(items)? = JSONValue.parse(Data(reply[open...close].utf8))
        else { return nil }
        let tasks = items.compactMap { item -> String? in
            if case let .string(text) = item, !text.trimmingCharacters(in: .whitespaces).isEmpty { return text }
            return nil
        }
        return tasks.isEmpty ? nil : Array(tasks.prefix(max(1, limit)))
    }

    /// One root-model call outside the loop (planning, synthesis), made as the loop makes its calls.
    private func askRoot(ledger: RunLedger, models: RunModels, prompt: String) async throws -> Result<String, RootCallEnding> {
        let request = ChatRequest(model: models.root, messages: [.init(.user, prompt)], maxTokens: 4096, modelSource: models.rootSource)
        return try await callRoot(request, ledger: ledger).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}

actor Counter {
    private var value = 0
    func increment() -> Int {
        value += 1
        return value
    }
}
