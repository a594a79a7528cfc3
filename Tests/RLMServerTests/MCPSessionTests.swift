import Logging
import MCP
import RLMConfig
import Testing
@testable import RLMServer

/// Drives a whole MCP session through the SDK's own client over an in-memory transport: fast, and the same wire path.
@Suite struct MCPSessionTests {
    private func connected(_ values: [String: String] = [:]) async throws -> (Client, MCPSession, ServerRuntime) {
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: values)]))
        let runtime = ServerRuntime(config: config, logger: Logger(label: "test"))
        let session = await MCPSession.make(runtime: runtime, id: "memory-1")
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await session.server.start(transport: serverTransport)
        let client = Client(name: "swift-test", version: "1")
        _ = try await client.connect(transport: clientTransport)
        return (client, session, runtime)
    }

    @Test func listsAndCallsTools() async throws {
        let (client, session, runtime) = try await connected()
        let tools = try await client.listTools().tools
        #expect(tools.map(\.name) == ["rlm_status", "sandbox_exec", "sandbox_exec_stateful", "sandbox_upload", "sandbox_download", "sandbox_files",
                                       "sandbox_shell", "rlm_execute", "rlm_analyze", "rlm_code", "rlm_decompose"])
        let readOnly = tools.filter { $0.annotations.readOnlyHint == true }.map(\.name)
        #expect(readOnly == ["rlm_status", "sandbox_download", "sandbox_files"])
        let result = try await client.callTool(name: "rlm_status", arguments: [:]) as RequestContext<CallTool.Result>
        let status = try await result.value
        #expect(status.structuredContent?.objectValue?["session"] == "memory-1")
        await session.close(runtime: runtime)
        #expect(await runtime.activity.snapshot.sessions_open == 0)
    }

    @Test func progressNotificationsCarryTheCallersToken() async throws {
        let (client, session, runtime) = try await connected(["RLM_DIAGNOSTIC_TOOLS": "1"])
        let received = Received()
        await client.onNotification(ProgressNotification.self) { message in
            await received.add(message.params)
        }
        var meta = Metadata()
        meta.progressToken = .string("tok")
        let result = try await (client.callTool(name: "diagnostic_progress", arguments: ["steps": 3, "interval_ms": 0], meta: meta)
            as RequestContext<CallTool.Result>).value
        #expect(result.isError != true)
        let progress = await received.all
        #expect(progress.map(\.progress) == [1, 2, 3])
        #expect(progress.allSatisfy { $0.progressToken == .string("tok") && $0.total == 3 })
        await session.close(runtime: runtime)
    }

    @Test func closingTheSessionCancelsCallsInFlight() async throws {
        let (client, session, runtime) = try await connected(["RLM_DIAGNOSTIC_TOOLS": "1"])
        _ = try await client.callTool(name: "diagnostic_progress", arguments: ["steps": 1000, "interval_ms": 50]) as RequestContext<CallTool.Result>
        while await runtime.activity.snapshot.calls_in_flight == 0 { try await Task.sleep(for: .milliseconds(5)) }
        await session.close(runtime: runtime)
        while await runtime.activity.snapshot.calls_in_flight > 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(await runtime.activity.snapshot.calls_cancelled == 1)
    }
}

private actor Received {
    var all: [ProgressNotification.Parameters] = []
    func add(_ value: ProgressNotification.Parameters) { all.append(value) }
}
