import RLMCommon
import Foundation
@testable import LanguageModels
@testable import Sandboxes
import Testing
@testable import RLMEngine

/// A model that answers from a script, in order, and records what it was asked.
actor ScriptedModel: LanguageModel {
    private var replies: [String]
    private(set) var requests: [ChatRequest] = []

    init(_ replies: [String]) { self.replies = replies }

    nonisolated func complete(_ request: ChatRequest) async throws(LLMError) -> ChatResponse {
        let text = await next(request)
        return ChatResponse(text: text, model: request.model, usage: .init(inputTokens: 10, outputTokens: 5), latency: .milliseconds(1),
                            attempts: 1, finishReason: "stop")
    }

    private func next(_ request: ChatRequest) -> String {
        requests.append(request)
        return replies.isEmpty ? "```python\nprint('idle')\n```" : replies.removeFirst()
    }
}

/// A sandbox that plays back execution results and records every call, so the loop's own logic is tested alone.
actor StubSandbox: Sandbox {
    private var results: [ExecResult]
    private(set) var executed: [ExecRequest] = []
    private(set) var resets: [String] = []
    private(set) var uploads: [String: Data] = [:]
    private(set) var removed: [String] = []
    private(set) var loads: [(variable: String, path: String, namespace: String)] = []

    init(_ results: [ExecResult]) { self.results = results }

    func execute(_ request: ExecRequest) async throws -> ExecResult {
        executed.append(request)
        return results.isEmpty ? .output("") : results.removeFirst()
    }
    func resetNamespace(_ name: String) async { resets.append(name) }
    func loadVariable(_ variable: String, fromFile path: String, kind: String, namespace: String, timeout: Duration) async throws -> LoadedVariable {
        guard uploads[path] != nil else { throw SandboxError.notFound(path) }
        loads.append((variable, path, namespace))
        return LoadedVariable(type: kind == "json" ? "dict" : "str", length: uploads[path]!.count)
    }
    func uploadFile(path: String, data: Data) async throws(SandboxError) -> Int {
        uploads[path] = data
        return data.count
    }
    func removeFile(path: String) async throws(SandboxError) {
        guard uploads.removeValue(forKey: path) != nil else { throw .notFound(path) }
        removed.append(path)
    }
    func downloadFile(path: String, maxBytes: Int) async throws(SandboxError) -> Data { throw .notFound(path) }
    func listFiles(path: String, recursive: Bool) async throws(SandboxError) -> [FileEntry] { [] }
    func shell(command: String, cwd: String?, timeout: Duration) async throws -> ShellResult { throw SandboxError.io("no shell") }
    func status() async -> SandboxStatus { SandboxStatus(backend: "stub", state: "running", isolation: "none", namespaces: [], workers: 0) }
    func shutdown() async {}
}

extension ExecResult {
    static func output(_ stdout: String, submitted: String? = nil, error: Failure? = nil) -> ExecResult {
        ExecResult(stdout: stdout, stderr: "", error: error, submitted: submitted.flatMap { JSONValue.parse(Data($0.utf8))?.objectValue }, truncated: false, durationMS: 1)
    }
}

@Suite struct EngineLoopTests {
    let models = RunModels(root: "openai/root", sub: "openai/sub")

    func engine(_ model: ScriptedModel) -> RLMEngine {
        RLMEngine(rootModel: model, subModel: model)
    }

    @Test func theContextIsUploadedAndLoadedNeverPromptedAndTheNamespaceIsFreedAfterwards() async throws {
        let model = ScriptedModel(["```python\nSUBMIT(answer=len(context))\n```"])
        let sandbox = StubSandbox([.output("", submitted: #"{"answer": 11}"#)])
        let context = String(repeating: "x", count: 600) + "SECRET-TAIL"
        let result = try await engine(model).run(RunRequest(task: "measure", context: .text(context), models: models, limits: .init()),
                                                 sandbox: { sandbox })
        #expect(result.status == .submitted && result.answer == .int(11) && result.iterations == 1 && result.llmCalls == 1)
        let loads = await sandbox.loads
        #expect(loads.count == 1 && loads[0].variable == "context" && loads[0].namespace.hasPrefix("rlm:run_"))
        let prompt = await model.requests[0].messages.map(\.content).joined()
        #expect(prompt.contains("611 characters") && !prompt.contains("SECRET-TAIL"))
        #expect(await sandbox.resets == [loads[0].namespace])
        // The uploaded copy is deleted once the run ends.
        #expect(await sandbox.removed == [loads[0].path] && loads[0].path.hasPrefix(".rlm/"))
    }

    @Test func blocksAfterAFailingOneAreSkippedAndTheModelIsTold() async throws {
        let model = ScriptedModel([
            "```python\nx = 1/0\n```\n```python\nprint('never')\n```",
            "```python\nSUBMIT(answer='fixed')\n```",
        ])
        let failure = ExecResult.Failure(type: "ZeroDivisionError", message: "division by zero", traceback: "ZeroDivisionError: division by zero")
        let sandbox = StubSandbox([.output("", error: failure), .output("", submitted: #"{"answer": "fixed"}"#)])
        let result = try await engine(model).run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { sandbox })
        #expect(result.answer == .string("fixed") && result.iterations == 2)
        #expect(await sandbox.executed.count == 2)
        let observation = await model.requests[1].messages.last!.content
        #expect(observation.contains("ZeroDivisionError") && observation.contains("1 block after the failing one did not run"))
    }

    @Test func extraVariablesGoWithTheFirstExecutionOnly() async throws {
        let model = ScriptedModel(["```python\nprint(1)\n```", "```python\nSUBMIT(answer=2)\n```"])
        let sandbox = StubSandbox([.output("1\n"), .output("", submitted: #"{"answer": 2}"#)])
        var request = RunRequest(task: "t", models: models, limits: .init())
        request.variables = ["tests": .string("assert True")]
        _ = try await engine(model).run(request, sandbox: { sandbox })
        let sent = await sandbox.executed.map(\.variables)
        #expect(sent[0] == ["tests": .string("assert True"), "context": .null])
        #expect(sent[1] == nil)
    }

    @Test func aReplyWithoutCodeIsToldToWriteSome() async throws {
        let model = ScriptedModel(["I think the answer is 4.", "FINAL(4)"])
        let result = try await engine(model).run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { StubSandbox([]) })
        #expect(result.status == .submitted && result.answer == .string("4") && result.iterations == 2)
        #expect(await model.requests[1].messages.last!.content.contains("no ```python code block"))
    }

    @Test func aStepWhoseSubmissionCheckFailedStillRecordsItsDuration() async throws {
        let model = ScriptedModel(["```python\nSUBMIT(answer=1)\n```"])
        let sandbox = StubSandbox([.output("", submitted: #"{"answer": 1}"#)])
        let result = try await engine(model).run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { sandbox }, check: { _, _ in
            try await Task.sleep(for: .milliseconds(5))
            throw SandboxError.io("the tests could not be uploaded")
        })
        #expect(result.status == .error && result.trajectory.count == 1)
        #expect(result.trajectory[0].durationMS >= 5)
    }

    @Test func aLostWorkerIsTheModelsToFixAndItIsToldItsVariablesAreGone() async throws {
        let model = ScriptedModel(["```python\nimport os\n```", "FINAL(done)"])
        let sandbox = StubSandbox([.lost(.outOfMemory(reason: "signal 9 (SIGKILL)"), durationMS: 3)])
        let result = try await engine(model).run(RunRequest(task: "t", models: models, limits: .init()), sandbox: { sandbox })
        #expect(result.status == .submitted)
        #expect(result.trajectory[0].blocks[0].error?.hasPrefix("WorkerDied: ") == true)
        #expect(await model.requests[1].messages.last!.content.contains("your variables are gone"))
    }

    @Test func theCallBudgetEndsTheRunBeforeTheNextRootCall() async throws {
        let model = ScriptedModel([])
        let result = try await engine(model).run(RunRequest(task: "t", models: models, limits: .init(maxIterations: 10, maxLLMCalls: 3)),
                                                 sandbox: { StubSandbox([]) })
        #expect(result.status == .budgetExceeded && result.message == "budget exhausted: max_llm_calls=3 reached")
        #expect(result.iterations == 3 && result.llmCalls == 3 && result.answer == nil)
    }

    @Test func aMissingContextFileIsTheCallersToFix() async throws {
        let model = ScriptedModel([])
        await #expect(throws: RunInputError.self) {
            _ = try await engine(model).run(RunRequest(task: "t", context: .sandboxFile(path: "nope.txt"), models: models, limits: .init()),
                                            sandbox: { StubSandbox([]) })
        }
        #expect(await model.requests.isEmpty)
    }

    @Test func subCallsCheckTheWindowAndTheBudgetOnTheHost() async throws {
        let model = ScriptedModel([])
        let engine = RLMEngine(rootModel: model, subModel: model, windows: ModelWindows(override: 4096 + 10))
        let frame = RunFrame(engine: engine, request: RunRequest(task: "t", models: models, limits: .init(maxLLMCalls: 2)), depth: 0,
                             ledger: RunLedger(limits: .init(maxLLMCalls: 2), startedAt: .now), sandbox: SandboxHandle { StubSandbox([]) },
                             check: nil, progress: nil)
        let broker = SubCallBroker(engine: engine, frame: frame, log: SubCallLog())
        guard case let .failure(tooBig) = await broker.handle(.llmQuery(prompt: String(repeating: "a", count: 400), model: nil)) else {
            Issue.record("an oversized prompt was sent")
            return
        }
        #expect(tooBig.contains("more than openai/sub can take") && tooBig.contains("chunks of at most 40 characters"))
        guard case let .failure(overBudget) = await broker.handle(.llmQueryBatched(prompts: ["a", "b", "c"], model: nil)) else {
            Issue.record("a batch over the call budget was sent")
            return
        }
        #expect(overBudget.contains("3 more calls would pass max_llm_calls=2"))
        #expect(await broker.handle(.llmQueryBatched(prompts: ["a", "b"], model: nil)) == .texts(["```python\nprint('idle')\n```", "```python\nprint('idle')\n```"]))
        #expect(await model.requests.count == 2)
    }
}
