import Foundation
import LanguageModels
import RLMCommon
import Sandboxes

/// Getting `context` into the run's namespace and telling the root model its shape.
extension RunFrame {
    /// Waits for the context's shape and starts the conversation with the system prompt and the task; a context that
    /// cannot be loaded ends the run (or, when it is the caller's mistake, throws `RunInputError`).
    func startHistory() async throws -> RunResult? {
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
        let limits = request.limits
        history = RootHistory(
            system: engine.prompts.system(limits: limits, depth: depth, subModel: request.models.sub,
                                          subPromptChars: engine.windows.promptChars(of: request.models.sub),
                                          instructions: request.instructions),
            task: "Task: \(request.task)\n\n\(shape)\n\nIteration 1 of \(limits.maxIterations). Start by looking at `context` with code."
        )
        return nil
    }

    func startLoadingContext() {
        let sandbox = sandbox, namespace = namespace
        Task { await sandbox.prefetch() }
        // Inline contexts travel as one file upload, then load into the namespace; a sandbox file only loads.
        guard let file = ContextFile(request.context, runID: runID) else { return }
        let timeout = request.limits.execTimeout
        contextFile = file
        if file.upload != nil { uploadedContext = file.path }
        contextLoad = Task {
            let box = try await sandbox.get()
            if let data = file.upload { _ = try await box.uploadFile(path: file.path, data: data) }
            return try await box.loadVariable("context", fromFile: file.path, kind: file.kind, namespace: namespace, timeout: timeout)
        }
    }

    /// What the root model is told about `context`: its type, size, a preview and how to chunk it — never the context.
    func contextShape() async throws -> String {
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
}
