import Foundation
import GRDB
@testable import History
import RLMEngine
import Testing

@Suite struct HistoryStoreTests {
    let models = RunModels(root: "openai/gpt-4o", sub: "openai/gpt-4o-mini")

    func open(_ folder: TemporaryFolder, days: Int = 30, keepsContext: Bool = false, now: Date = Date()) throws -> RunHistory {
        try RunHistory(settings: HistorySettings(directory: folder.path, retentionDays: days, keepsContext: keepsContext), now: now)
    }

    @Test func anEngineRunIsRecordedWithItsStepsSubCallsOutcomeAndCost() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try open(folder), recorder = HistoryRecorder(history: history)
        let model = ScriptedModel([
            "Let me look.\n```python\nprint(llm_query('summarise'))\n```",
            "sub answer",
            "```python\nSUBMIT(answer='forty-two')\n```",
        ])
        let engine = RLMEngine(rootModel: model, subModel: model, recorder: recorder)
        let sandbox = StubSandbox([.output("ASK:summarise the first chunk"), .output("", submitted: #"{"answer": "forty-two"}"#)])
        let request = RunRequest(task: "what is the answer?", context: .text("the context text"), models: models, limits: .init(),
                                 origin: RunOrigin(tool: "rlm_execute", workspace: "ws#abc"))
        let result = try await engine.run(request, sandbox: { sandbox })
        await recorder.flush()

        let run = try history.detail(result.runID)
        #expect(run.summary.status == "submitted")
        #expect(run.summary.tool == "rlm_execute")
        #expect(run.workspace == "ws#abc")
        #expect(run.answer == .string("forty-two"))
        #expect(run.steps.map(\.iteration) == [1, 2])
        #expect(run.steps[0].reply.hasPrefix("Let me look."))
        #expect(run.steps[0].blocks.first?.code == "print(llm_query('summarise'))")
        let call = try #require(run.steps[0].blocks.first?.subCalls.first)
        #expect(call.kind == "llm_query")
        #expect(call.promptPreview == "summarise the first chunk")
        #expect(call.answerPreview == "sub answer")
        #expect(run.context.kind == "text" && run.context.size == 16 && run.context.full == nil)
        // 3 calls at 1000 in + 500 out: two on gpt-4o ($2.50 / $10 per M), one on gpt-4o-mini ($0.15 / $0.60 per M).
        let expected = 2 * (1000 * 2.50 + 500 * 10.0) / 1e6 + (1000 * 0.15 + 500 * 0.60) / 1e6
        #expect(abs((run.summary.costUSD ?? 0) - expected) < 1e-9)
        // The usage reads back as the engine's own type, per model, equal to what the run returned.
        #expect(run.usage == result.usage)
        #expect(run.usage?.models["openai/gpt-4o"]?.calls == 2)
        #expect(try history.list().map(\.runID) == [result.runID])
        await recorder.close()
    }

    @Test func aRunInFlightIsVisibleWithTheStepsSoFar() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try open(folder), recorder = HistoryRecorder(history: history)
        recorder.record(.started(start("run_inflight")))
        recorder.record(.step(runID: "run_inflight", step(1)))
        await recorder.flush()
        // Another process (the CLI) sees it through its own connection.
        let reader = try open(folder)
        let run = try reader.detail("run_inflight")
        #expect(run.summary.status == "running")
        #expect(run.steps.count == 1)
        await recorder.close()
    }

    @Test func runsLeftRunningByAProcessThatIsGoneAreMarkedInterruptedOnTheNextOpen() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try open(folder), recorder = HistoryRecorder(history: history)
        recorder.record(.started(start("run_crashed")))
        recorder.record(.started(start("run_alive")))
        await recorder.close()
        let dead = try deadPID()
        try await history.pool.write { db in
            try db.execute(sql: "UPDATE runs SET pid = ? WHERE id = 'run_crashed'", arguments: [dead])
        }
        let reopened = try open(folder)
        #expect(try reopened.detail("run_crashed").summary.status == "interrupted")
        #expect(try reopened.detail("run_crashed").message?.contains("stopped before this run finished") == true)
        // This process is alive: its run is still running.
        #expect(try reopened.detail("run_alive").summary.status == "running")
    }

    @Test func runsOlderThanTheRetentionAreDeletedOnOpen() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try open(folder), recorder = HistoryRecorder(history: history)
        var old = start("run_old")
        old.startedAt = Date().addingTimeInterval(-40 * 86_400)
        recorder.record(.started(old))
        recorder.record(.step(runID: "run_old", step(1)))
        recorder.record(.started(start("run_new")))
        await recorder.close()
        let reopened = try open(folder, days: 30)
        #expect(try reopened.list().map(\.runID) == ["run_new"])
        #expect(try await reopened.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM steps") } == 0)
    }

    @Test func theWholeContextIsKeptOnlyWhenAskedFor() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let long = String(repeating: "abc ", count: 200)
        for keep in [false, true] {
            let history = try open(folder, keepsContext: keep), recorder = HistoryRecorder(history: history)
            var run = start("run_ctx_\(keep)")
            run.context = .text(long)
            recorder.record(.started(run))
            await recorder.close()
            let context = try history.detail("run_ctx_\(keep)").context
            #expect(context.size == 800)
            #expect(context.preview.count == ContextSummary.previewChars + 1)
            #expect(context.full == (keep ? long : nil))
        }
    }

    @Test func deletingARunDeletesItsChildrenAndAgeDeletesOldRuns() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try open(folder), recorder = HistoryRecorder(history: history)
        recorder.record(.started(start("run_parent")))
        var child = start("run_child")
        child.origin = RunOrigin(tool: "rlm_query", parentRunID: "run_parent")
        recorder.record(.started(child))
        recorder.record(.step(runID: "run_child", step(1)))
        var older = start("run_week_old")
        older.startedAt = Date().addingTimeInterval(-8 * 86_400)
        recorder.record(.started(older))
        await recorder.close()
        #expect(try history.detail("run_parent").children == ["run_child"])
        #expect(try history.delete("run_parent"))
        #expect(try history.list().map(\.runID) == ["run_week_old"])
        #expect(try !history.delete("run_parent"))
        #expect(try history.delete(startedBefore: Date().addingTimeInterval(-7 * 86_400)) == 1)
        #expect(try history.list().isEmpty)
        #expect(throws: HistoryError.runNotFound("run_parent")) { try history.detail("run_parent") }
    }

    @Test func anUnwritableFolderIsRefusedWithTheVariablesToChange() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = folder.path + "/not-a-folder"
        FileManager.default.createFile(atPath: file, contents: Data())
        #expect {
            try RunHistory(settings: HistorySettings(directory: file + "/history"))
        } throws: { error in
            "\(error)".contains("RLM_DATA_DIR") && "\(error)".contains("RLM_HISTORY=off")
        }
    }

    @Test func theDefaultFolderFollowsXDG() {
        #expect(HistorySettings.defaultDirectory(environment: ["XDG_DATA_HOME": "/data", "HOME": "/home/u"]) == "/data/rlm-mcp")
        #expect(HistorySettings.defaultDirectory(environment: ["HOME": "/home/u"]) == "/home/u/.local/share/rlm-mcp")
    }

    // MARK: - Helpers

    func start(_ id: String) -> RunStart {
        RunStart(runID: id, origin: RunOrigin(), task: "task of \(id)", models: models, limits: .init(), context: .none, startedAt: Date())
    }

    func step(_ iteration: Int) -> Step {
        Step(iteration: iteration, reply: "reply", model: "openai/gpt-4o", inputTokens: 1, outputTokens: 1, latencyMS: 1, blocks: [],
             feedback: nil, durationMS: 1)
    }

    /// The pid of a process that has exited (and been reaped), so `kill(pid, 0)` says it is gone.
    func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
