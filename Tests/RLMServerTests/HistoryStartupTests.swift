import Foundation
import History
import Logging
import RLMCommon
import RLMConfig
import Testing
@testable import RLMServer

/// Start-up does not wait for the run history: with the store's open held, `initialize`, `tools/list`, `ping` and
/// `rlm_status` are answered; what needs the store waits for it, and an open that failed is named, not waited on.
@Suite(.timeLimit(.minutes(1))) struct HistoryStartupTests {
    private static let initialize = #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#

    private func connected(history: HistoryHandle) async throws -> (Connection, Outbox) {
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: [:])]))
        let recorder = HistoryRecorder(handle: history)
        let runtime = ServerRuntime(config: config, logger: Logger(label: "test"), recorder: recorder, history: recorder)
        let outbox = Outbox()
        let connection = await Connection.open(runtime: runtime, id: "memory-h") { await outbox.add($0) }
        await connection.receive(Data(Self.initialize.utf8))
        return (connection, outbox)
    }

    private func send(_ connection: Connection, _ id: Int, _ method: String, _ params: String = "{}") async {
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#.utf8))
    }

    @Test func theFirstAnswersDoNotWaitForASlowStore() async throws {
        let folder = NSTemporaryDirectory() + "rlm-startup-test-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let release = Gate()
        let handle = HistoryHandle(backend: .sqlite) { () async throws(HistoryError) -> any RunStore in
            await release.wait()
            return try RunHistory(settings: HistorySettings(directory: folder))
        }
        let (connection, outbox) = try await connected(history: handle)
        // Outbox.response gives up (and fails the test) if an answer waited for the held open.
        #expect(try await outbox.response(.integer(0))["result"]?["protocolVersion"] == "2025-06-18")
        await send(connection, 1, "tools/list")
        #expect(try await outbox.response(.integer(1))["result"]?["tools"]?.arrayValue?.isEmpty == false)
        await send(connection, 2, "ping")
        #expect(try await outbox.response(.integer(2))["result"] == [:])
        await send(connection, 3, "tools/call", #"{"name":"rlm_status","arguments":{}}"#)
        let status = try await outbox.response(.integer(3))["result"]?["structuredContent"]?["history"]
        #expect(status?["state"] == "opening" && status?["backend"] == "sqlite")
        // What needs the store waits for it, and gets it once it has opened.
        await send(connection, 4, "resources/list")
        await release.open()
        #expect(try await outbox.response(.integer(4))["result"]?["resources"] == [])
        await send(connection, 5, "tools/call", #"{"name":"rlm_status","arguments":{}}"#)
        #expect(try await outbox.response(.integer(5))["result"]?["structuredContent"]?["history"]?["state"] == "open")
        await connection.close()
        await handle.shutdown()
    }

    @Test func anOpenThatFailedIsShownByStatusAndNamedByTheCallsThatNeedTheStore() async throws {
        let handle = HistoryHandle(backend: .sqlite) { () async throws(HistoryError) -> any RunStore in
            throw HistoryError.cannotOpen(path: "/nowhere/history.sqlite", reason: "read-only file system")
        }
        _ = try? await handle.store()
        let (connection, outbox) = try await connected(history: handle)
        _ = try await outbox.response(.integer(0))
        await send(connection, 1, "tools/call", #"{"name":"rlm_status","arguments":{}}"#)
        let result = try await outbox.response(.integer(1))["result"]
        let section = result?["structuredContent"]?["history"]
        #expect(section?["state"] == "failed")
        #expect(section?["problem"]?.stringValue?.contains("RLM_DATA_DIR") == true)
        #expect(result?["content"]?.arrayValue?.first?["text"]?.stringValue?.contains("run history: failed") == true)
        await send(connection, 2, "resources/read", #"{"uri":"rlm://runs/run_x"}"#)
        let error = try await outbox.response(.integer(2))["error"]
        #expect(error?["message"]?.stringValue?.contains("could not be opened") == true)
        #expect(error?["message"]?.stringValue?.contains("read-only file system") == true)
        await send(connection, 3, "resources/list")
        #expect(try await outbox.response(.integer(3))["error"]?["message"]?.stringValue?.contains("RLM_DATA_DIR") == true)
        await connection.close()
    }
}

/// Holds a store's open until the test lets it go.
private actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        guard !isOpen else { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}
