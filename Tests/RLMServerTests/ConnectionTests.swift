import Foundation
import Logging
import RLMCommon
import RLMConfig
import Testing
@testable import RLMServer

/// Drives a whole connection of the protocol core with raw JSON-RPC lines, as stdio does: both eras, one code path.
@Suite struct ConnectionTests {
    private func connected(_ values: [String: String] = [:]) async throws -> (Connection, Outbox, ServerRuntime) {
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: values)]))
        let runtime = ServerRuntime(config: config, logger: Logger(label: "test"))
        let outbox = Outbox()
        let connection = await Connection.open(runtime: runtime, id: "memory-1") { await outbox.add($0) }
        return (connection, outbox, runtime)
    }

    private static let initialize = #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#

    @Test func initializesListsAndCallsTools() async throws {
        let (connection, outbox, runtime) = try await connected()
        await connection.receive(Data(Self.initialize.utf8))
        let hello = try await outbox.response(.integer(0))
        #expect(hello["result"]?["protocolVersion"] == "2025-06-18")
        #expect(hello["result"]?["capabilities"]?["logging"] == [:])
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.utf8))
        let tools = try await outbox.response(.integer(1))["result"]?["tools"]?.arrayValue ?? []
        #expect(tools.compactMap { $0["name"]?.stringValue } == ExpectedTools.names)
        let readOnly = tools.filter { $0["annotations"]?["readOnlyHint"] == true }.compactMap { $0["name"]?.stringValue }
        #expect(readOnly == ExpectedTools.readOnly)
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":"2","method":"tools/call","params":{"name":"rlm_status","arguments":{}}}"#.utf8))
        let status = try await outbox.response(.string("2"))
        #expect(status["id"] == "2")
        #expect(status["result"]?["structuredContent"]?["session"] == "memory-1")
        #expect(status["result"]?["isError"] == false)
        await connection.close()
        #expect(await runtime.activity.snapshot.sessions_open == 0)
    }

    @Test func theToolListIsEncodedOnceAndAnsweredToEachIdAsSent() async throws {
        let (connection, outbox, _) = try await connected()
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.utf8))
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":"1","method":"tools/list"}"#.utf8))
        let first = try await outbox.response(.integer(1))
        let second = try await outbox.response(.string("1"))
        #expect(first["result"] == second["result"])
        #expect(first["result"]?["tools"]?.arrayValue?.count == ExpectedTools.names.count)
        await connection.close()
    }

    @Test func aSecondInitializeIsRefused() async throws {
        let (connection, outbox, _) = try await connected()
        await connection.receive(Data(Self.initialize.utf8))
        _ = try await outbox.response(.integer(0))
        await connection.receive(Data(Self.initialize.replacingOccurrences(of: #""id":0"#, with: #""id":9"#).utf8))
        #expect(try await outbox.response(.integer(9))["error"]?["code"] == -32600)
        await connection.close()
    }

    @Test func malformedMessagesAreAnsweredAndTheConnectionKeepsServing() async throws {
        let (connection, outbox, _) = try await connected()
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":2,"method":7}"#.utf8))
        #expect(try await outbox.response(.integer(2))["error"]?["code"] == -32600)
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":5}}"#.utf8))
        #expect(try await outbox.response(.integer(3))["error"]?["code"] == -32602)
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":4,"method":"prompts/list"}"#.utf8))
        #expect(try await outbox.response(.integer(4))["error"]?["code"] == -32601)
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#.utf8))
        #expect(try await outbox.response(.integer(5))["result"] == [:])
        await connection.close()
    }

    @Test func unknownToolsGetOneSentenceAndTheListInData() async throws {
        let (connection, outbox, _) = try await connected()
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}"#.utf8))
        let error = try await outbox.response(.integer(1))["error"]
        #expect(error?["code"] == -32602)
        #expect(error?["message"]?.stringValue?.contains("rlm_status") == false)
        #expect(error?["data"]?["availableTools"]?.arrayValue?.contains("rlm_status") == true)
        await connection.close()
    }

    @Test func progressNotificationsCarryTheCallersToken() async throws {
        let (connection, outbox, _) = try await connected(["RLM_DIAGNOSTIC_TOOLS": "1"])
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"diagnostic_progress","arguments":{"steps":3,"interval_ms":0},"_meta":{"progressToken":7}}}"#.utf8))
        #expect(try await outbox.response(.integer(1))["result"]?["isError"] == false)
        let progress = await outbox.messages.filter { $0["method"] == "notifications/progress" }.compactMap { $0["params"] }
        #expect(progress.compactMap { $0["progress"]?.doubleValue } == [1, 2, 3])
        // The token goes back as sent: the number 7, not the string "7".
        #expect(progress.allSatisfy { $0["progressToken"] == .int(7) && $0["total"]?.doubleValue == 3 })
        await connection.close()
    }

    @Test func cancelledRequestsStopAndGetNoResponse() async throws {
        let (connection, outbox, runtime) = try await connected(["RLM_DIAGNOSTIC_TOOLS": "1"])
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"diagnostic_progress","arguments":{"steps":1000,"interval_ms":50}}}"#.utf8))
        while await runtime.activity.snapshot.calls_in_flight == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await connection.receive(Data(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#.utf8))
        while await runtime.activity.snapshot.calls_in_flight > 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await runtime.activity.snapshot.calls_cancelled == 1)
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#.utf8))
        _ = try await outbox.response(.integer(2))
        #expect(await outbox.messages.allSatisfy { $0["id"] != 1 })
        await connection.close()
    }

    @Test func closingTheConnectionCancelsCallsInFlight() async throws {
        let (connection, _, runtime) = try await connected(["RLM_DIAGNOSTIC_TOOLS": "1"])
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"diagnostic_progress","arguments":{"steps":1000,"interval_ms":50}}}"#.utf8))
        while await runtime.activity.snapshot.calls_in_flight == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await connection.close()
        while await runtime.activity.snapshot.calls_in_flight > 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await runtime.activity.snapshot.calls_cancelled == 1)
    }

    @Test func loggingSetLevelTakesOnlyKnownLevels() async throws {
        let (connection, outbox, _) = try await connected()
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"warning"}}"#.utf8))
        #expect(try await outbox.response(.integer(1))["result"] == [:])
        #expect(await connection.session.logLevel == .warning)
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"loud"}}"#.utf8))
        #expect(try await outbox.response(.integer(2))["error"]?["code"] == -32602)
        await connection.close()
    }

    @Test func modernRequestsOnTheSameConnectionAreStateless() async throws {
        let (connection, outbox, _) = try await connected()
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rlm_status","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#.utf8))
        let result = try await outbox.response(.integer(1))["result"]
        #expect(result?["resultType"] == "complete")
        #expect(result?["structuredContent"]?["session"] == "stateless")
        // logging/setLevel is a handshake-era method.
        await connection.receive(Data(#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"info","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#.utf8))
        #expect(try await outbox.response(.integer(2))["error"]?["code"] == -32601)
        await connection.close()
    }
}

/// What the connection sent, decoded.
actor Outbox {
    private(set) var messages: [JSONValue] = []

    func add(_ message: OutgoingMessage) {
        messages.append(JSONValue.parse(message.data) ?? .null)
    }

    /// Waits for the response to `id`.
    func response(_ id: RequestID) async throws -> JSONValue {
        for _ in 0..<2000 {
            if let found = messages.first(where: { $0["id"] == id.json && ($0["result"] != nil || $0["error"] != nil) }) { return found }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CancellationError()
    }
}
