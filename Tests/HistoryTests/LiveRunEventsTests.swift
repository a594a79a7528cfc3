import Foundation
import History
import Hummingbird
import HummingbirdTesting
@testable import RLMEngine
@testable import RunViewer
import Synchronization
import Testing

/// The live stream of a run (`/runs/<id>/events`) reads only the steps it has not sent, never the whole run again.
@Suite(.timeLimit(.minutes(1))) struct LiveRunEventsTests {
    /// A store that counts whole-run reads, so a test can tell a poll that re-reads everything from one that does not.
    final class CountingStore: RunStore {
        let inner: RunHistory
        let wholeRunReads = Mutex(0)
        let lowerBounds = Mutex<[Int]>([])

        init(_ inner: RunHistory) { self.inner = inner }

        var settings: HistorySettings { inner.settings }
        func write(_ events: [RunEvent]) async -> [String] { await inner.write(events) }
        func list(_ filter: RunFilter) async throws -> [History.RunSummary] { try inner.list(filter) }
        func detail(_ runID: String) async throws -> RunDetail {
            wholeRunReads.withLock { $0 += 1 }
            return try inner.detail(runID)
        }
        func progress(_ runID: String, afterStep: Int) async throws -> RunProgress {
            lowerBounds.withLock { $0.append(afterStep) }
            return try inner.progress(runID, afterStep: afterStep)
        }
        func delete(_ runID: String) async throws -> Bool { try inner.delete(runID) }
        func delete(startedBefore date: Date) async throws -> Int { try inner.delete(startedBefore: date) }
        func shutdown() async { await inner.shutdown() }
    }

    struct OpenDoor<Context: RequestContext>: RouterMiddleware {
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            try await next(request, context)
        }
    }

    @Test func theStreamSendsTheStepsAfterTheOnesShownAndNeverReReadsTheRun() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let history = try RunHistory(settings: HistorySettings(directory: folder.path))
        let models = RunModels(root: "openai/gpt-4o", sub: "openai/gpt-4o-mini")
        let steps: [RunEvent] = (1...3).map {
            .step(runID: "run_live", Step(iteration: $0, reply: "reply number \($0)", model: "openai/gpt-4o", inputTokens: 1, outputTokens: 1,
                                          latencyMS: 1, blocks: [], feedback: nil, durationMS: 1))
        }
        let end = RunEnd(runID: "run_live", status: .submitted, iterations: 3, llmCalls: 3, usage: Usage(), durationMS: 9, endedAt: Date())
        _ = await history.write([.started(RunStart(runID: "run_live", origin: RunOrigin(), task: "t", models: models, limits: .init(),
                                                   context: .none, startedAt: Date()))] + steps + [.finished(end)])
        let store = CountingStore(history)
        let viewer = try RunViewer(store: { store }, token: nil)
        let router = Router(context: BasicRequestContext.self)
        viewer.mount(on: router, guardedBy: OpenDoor<BasicRequestContext>())
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/runs/run_live/events?after=1", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.components(separatedBy: "event: step").count - 1 == 2)
                #expect(!body.contains("reply number 1") && body.contains("reply number 2") && body.contains("reply number 3"))
                #expect(body.contains("event: status") && body.contains("submitted"))
            }
            try await client.execute(uri: "/runs/run_missing/events", method: .get) { #expect($0.status != .ok) }
        }
        #expect(store.wholeRunReads.withLock { $0 } == 0)
        #expect(store.lowerBounds.withLock { $0 }.first == 1)
        await history.shutdown()
    }
}
