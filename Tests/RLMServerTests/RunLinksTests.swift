import Foundation
import History
import Logging
import RLMConfig
import RLMEngine
import Testing
@testable import RLMServer

/// Whether an rlm tool's result links to its run is decided at each call from the history's state: a run recorded
/// (or queued while the history opens) is linked; once the open has failed, no run is recorded and none is linked.
@Suite(.timeLimit(.minutes(1))) struct RunLinksTests {
    private func tools(history: HistoryHandle?) throws -> RLMTools {
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: [:])]))
        return RLMTools(engine: RLMEngine(config: config, logger: Logger(label: "test")), config: config, activity: ServerActivity(),
                        history: history)
    }

    private func links(_ tools: RLMTools) -> [String] {
        tools.runLinks("run_1", tool: "rlm_execute", task: "t").map(\.uri)
    }

    @Test func aRunIsLinkedWhileTheHistoryOpensAndOnceItHasButNotAfterItFailed() async throws {
        let release = AsyncStream<Void>.makeStream()
        let handle = HistoryHandle(backend: .postgres) { () async throws(HistoryError) -> any RunStore in
            for await _ in release.stream {}
            throw HistoryError.database(server: "db:5432/rlm", reason: "Connection refused")
        }
        let tools = try tools(history: handle)
        #expect(handle.state == .opening)
        #expect(links(tools) == ["rlm://runs/run_1"])
        release.continuation.finish()
        _ = try? await handle.store()
        // The same tools, built before the open failed, stop linking.
        #expect(handle.state.name == "failed")
        #expect(links(tools).isEmpty)
    }

    @Test func aRunIsLinkedWhenTheHistoryIsOpenAndNotWhenItIsOff() async throws {
        let folder = NSTemporaryDirectory() + "rlm-links-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let open = HistoryHandle(opened: try RunHistory(settings: HistorySettings(directory: folder)))
        _ = try await open.store()
        #expect(open.state == .open)
        #expect(links(try tools(history: open)) == ["rlm://runs/run_1"])
        #expect(links(try tools(history: nil)).isEmpty)
        await open.shutdown()
    }
}
