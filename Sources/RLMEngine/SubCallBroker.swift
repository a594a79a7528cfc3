import Foundation
import LanguageModels
import RLMCommon
import Sandboxes

/// Answers the `llm_query` / `llm_query_batched` / `rlm_query` calls that a run's code makes: checks budgets and the
/// sub model's window on the host (code in the sandbox cannot raise them), calls the sub model, and records each call.
struct SubCallBroker: Sendable {
    let engine: RLMEngine
    let frame: RunFrame
    let log: SubCallLog

    func handle(_ call: SubCall) async -> SubCallReply {
        switch call {
        case let .llmQuery(prompt, model):
            return await single(prompt: prompt, model: model, kind: "llm_query")
        case let .llmQueryBatched(prompts, model):
            return await batch(prompts: prompts, model: model)
        case let .rlmQuery(task, context):
            return await recursive(task: task, context: context)
        }
    }

    private func single(prompt: String, model: String?, kind: String) async -> SubCallReply {
        let model = model ?? frame.request.models.sub
        if let refusal = windowRefusal(prompts: [prompt], model: model, kind: kind) { return .failure(refusal) }
        do {
            try await frame.ledger.reserve(1)
        } catch {
            return .failure(error.message)
        }
        switch await ask(prompt: prompt, model: model, kind: kind) {
        case let .success(text): return .text(text)
        case let .failure(problem): return .failure(problem.message)
        }
    }

    private func batch(prompts: [String], model: String?) async -> SubCallReply {
        let model = model ?? frame.request.models.sub
        guard !prompts.isEmpty else { return .texts([]) }
        if let refusal = windowRefusal(prompts: prompts, model: model, kind: "llm_query_batched") { return .failure(refusal) }
        do {
            try await frame.ledger.reserve(prompts.count)
        } catch {
            return .failure(error.message)
        }
        // The shared bound on sub-calls (BoundedLanguageModel) decides how many of these are in flight at once.
        let answers = await withTaskGroup(of: (Int, Result<String, SubCallProblem>).self) { group in
            for (index, prompt) in prompts.enumerated() {
                group.addTask { (index, await ask(prompt: prompt, model: model, kind: "llm_query_batched")) }
            }
            var answers = [Result<String, SubCallProblem>?](repeating: nil, count: prompts.count)
            for await (index, answer) in group { answers[index] = answer }
            return answers.compactMap { $0 }
        }
        var texts: [String] = []
        for (index, answer) in answers.enumerated() {
            switch answer {
            case let .success(text): texts.append(text)
            case let .failure(problem): return .failure("prompt \(index) of the batch failed: \(problem.message)")
            }
        }
        return .texts(texts)
    }

    private func recursive(task: String, context: String?) async -> SubCallReply {
        let depth = frame.depth + 1
        guard depth <= frame.request.limits.maxDepth else {
            // At the depth limit a recursive call is an ordinary sub-call, as in the paper's reference library.
            let prompt = context.map { "\(task)\n\n\($0)" } ?? task
            return await single(prompt: prompt, model: nil, kind: "rlm_query")
        }
        var child = frame.request
        child.task = task
        child.context = context.map(RunContext.text) ?? .none
        child.models.root = frame.request.models.sub
        child.models.rootSource = frame.request.models.subSource
        child.instructions = nil
        child.variables = [:]
        child.origin = RunOrigin(tool: "rlm_query", workspace: frame.request.origin.workspace, parentRunID: frame.runID, owner: frame.request.origin.owner)
        let started = ContinuousClock.now
        do {
            let result = try await engine.runLoop(child, depth: depth, ledger: frame.ledger, sandbox: frame.sandbox, progress: nil)
            await log.append(SubCallRecord(
                kind: "rlm_query", model: child.models.root, promptChars: task.count + (context?.count ?? 0),
                inputTokens: 0, outputTokens: 0, latencyMS: started.millisecondsAgo, error: result.message,
                childRunID: result.runID, childStatus: result.status, childIterations: result.iterations,
                promptPreview: Self.preview(task), answerPreview: result.answer.map { Self.preview($0.displayText) }
            ))
            switch result.status {
            case .submitted, .fallback: return .text(result.answer?.displayText ?? "")
            case .budgetExceeded, .error: return .failure("rlm_query child run \(result.runID) ended with \(result.status.rawValue): \(result.message ?? "no answer")")
            }
        } catch {
            return .failure("rlm_query was cancelled")
        }
    }

    /// The first 300 characters of a prompt or answer, for the trajectory and the run history.
    static func preview(_ text: String) -> String {
        text.count <= 300 ? text : String(text.prefix(300)) + "…"
    }

    /// Refuses prompts larger than the sub model's window, telling the code how to split them.
    private func windowRefusal(prompts: [String], model: String, kind: String) -> String? {
        let budget = engine.windows.promptBudget(of: model)
        for (index, prompt) in prompts.enumerated() {
            let tokens = ModelWindows.estimatedTokens(prompt)
            guard tokens > budget else { continue }
            let which = prompts.count == 1 ? "the prompt" : "prompt \(index)"
            return "\(kind): \(which) is about \(tokens) tokens (\(prompt.utf8.count) characters), more than \(model) can take "
                + "(\(budget) tokens); split it into chunks of at most \(engine.windows.promptChars(of: model)) characters "
                + "and combine the answers in Python"
        }
        return nil
    }

    private func ask(prompt: String, model: String, kind: String) async -> Result<String, SubCallProblem> {
        let request = ChatRequest(model: model, messages: [.init(.user, prompt)], maxTokens: 4096,
                                  modelSource: model == frame.request.models.sub ? frame.request.models.subSource : "the model argument of \(kind)")
        do {
            let response = try await engine.subModel.complete(request)
            await frame.ledger.record(response)
            await log.append(SubCallRecord(
                kind: kind, model: model, promptChars: prompt.count, inputTokens: response.usage.inputTokens,
                outputTokens: response.usage.outputTokens, latencyMS: response.latency.milliseconds,
                promptPreview: Self.preview(prompt), answerPreview: Self.preview(response.text)
            ))
            return .success(response.text)
        } catch {
            await log.append(SubCallRecord(kind: kind, model: model, promptChars: prompt.count, inputTokens: 0, outputTokens: 0,
                                           latencyMS: 0, error: error.description, promptPreview: Self.preview(prompt)))
            return .failure(SubCallProblem(message: "\(kind) failed: \(error.description)"))
        }
    }
}

struct SubCallProblem: Error {
    let message: String
}

/// The sub-calls of the code block that is running, collected for the trajectory.
actor SubCallLog {
    private var records: [SubCallRecord] = []

    func append(_ record: SubCallRecord) { records.append(record) }

    func drain() -> [SubCallRecord] {
        defer { records = [] }
        return records
    }
}

extension SubCallRecord {
    init(kind: String, model: String, promptChars: Int, inputTokens: Int, outputTokens: Int, latencyMS: Double, error: String? = nil,
         promptPreview: String? = nil, answerPreview: String? = nil) {
        self.init(kind: kind, model: model, promptChars: promptChars, inputTokens: inputTokens, outputTokens: outputTokens,
                  latencyMS: latencyMS, error: error, childRunID: nil, childStatus: nil, childIterations: nil,
                  promptPreview: promptPreview, answerPreview: answerPreview)
    }
}
