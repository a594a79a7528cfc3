import Logging
import RLMCommon
import RLMConfig
import Testing
@testable import RLMServer

@Suite struct ToolRegistryTests {
    let activity = ServerActivity()

    private func registry(_ tools: [ToolDefinition]) -> ToolRegistry {
        ToolRegistry(tools: tools, activity: activity, logger: Logger(label: "test"))
    }

    private let context = ToolContext(sessionID: "test", workspace: Workspace(provider: SandboxProvider(config: try! RLMConfig(variables: LayeredVariables(layers: [])))), progress: .none)

    private func echo(output: @escaping @Sendable (ToolArguments) throws -> ToolOutput) -> ToolDefinition {
        ToolDefinition(
            name: "echo", title: "Echo", description: "Echoes `text`.",
            input: .object(properties: [("text", .string())], required: ["text"]),
            output: .object(properties: [("text", .string())], required: ["text"])
        ) { arguments, _ in try output(arguments) }
    }

    @Test func validArgumentsReachTheHandlerAndBothContentFormsComeBack() async throws {
        let tools = registry([echo { ToolOutput(text: "said \($0.string("text")!)", structured: ["text": .string($0.string("text")!)]) }])
        let result = try await tools.call(name: "echo", arguments: ["text": "hi"], context: context)
        #expect(result.isError != true)
        #expect(result.structuredContent == ["text": "hi"])
        #expect(result.texts == ["said hi"])
        #expect(await activity.snapshot.calls_succeeded == 1)
    }

    @Test func invalidArgumentsNeverReachTheHandler() async throws {
        let tools = registry([echo { _ in
            Issue.record("handler ran")
            return ToolOutput(text: "", structured: [:])
        }])
        let result = try await tools.call(name: "echo", arguments: ["text": 5], context: context)
        #expect(result.isError == true)
        #expect(result.texts == [#"Invalid arguments for echo: argument "text" must be a string (got integer 5). See the tool's inputSchema."#])
        #expect(await activity.snapshot.calls_rejected == 1)
    }

    @Test func missingArgumentsObjectIsTreatedAsEmpty() async throws {
        let result = try await registry([echo { _ in ToolOutput(text: "", structured: ["text": ""]) }]).call(name: "echo", arguments: nil, context: context)
        #expect(result.isError == true)
        #expect("\(result.texts)".contains(#"argument \"text\" is required"#))
    }

    @Test func unknownToolIsAnInvalidParamsErrorListingTheTools() async {
        await #expect(throws: RPCError.unknownTool("nope", available: ["echo"])) {
            try await registry([echo { _ in ToolOutput(text: "", structured: [:]) }]).call(name: "nope", arguments: [:], context: context)
        }
    }

    @Test func aToolErrorBecomesAnErrorResultWithItsMessage() async throws {
        let result = try await registry([echo { _ in throw ToolError("the sandbox is gone; call again to start a new one") }])
            .call(name: "echo", arguments: ["text": "x"], context: context)
        #expect(result.isError == true)
        #expect(result.texts == ["the sandbox is gone; call again to start a new one"])
        #expect(await activity.snapshot.calls_failed == 1)
    }

    @Test func outputThatBreaksTheOutputSchemaIsReportedNotSent() async throws {
        let result = try await registry([echo { _ in ToolOutput(text: "", structured: ["text": 42]) }])
            .call(name: "echo", arguments: ["text": "x"], context: context)
        #expect(result.isError == true)
        #expect(result.structuredContent == nil)
        #expect("\(result.texts)".contains("does not match its outputSchema"))
    }

    @Test func cancellationPropagatesAndIsCounted() async throws {
        let slow = ToolDefinition(name: "slow", title: "Slow", description: "Sleeps.", input: .object(properties: []), output: .object(properties: [])) { _, _ in
            try await Task.sleep(for: .seconds(60))
            return ToolOutput(text: "", structured: [:])
        }
        let tools = registry([slow])
        let call = Task { try await tools.call(name: "slow", arguments: [:], context: context) }
        while await activity.snapshot.calls_in_flight == 0 { await Task.yield() }
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        let counts = await activity.snapshot
        #expect(counts.calls_cancelled == 1 && counts.calls_in_flight == 0)
    }

    @Test func aToolThatThrowsHasReleasedItsWorkspaceLeaseWhenTheCallEnds() async throws {
        let provider = SandboxProvider(config: try RLMConfig(variables: LayeredVariables(layers: [])))
        // With no idle allowance a workspace expires as soon as nothing holds a lease on it.
        let store = WorkspaceStore(handles: WorkspaceHandles(secret: nil), provider: provider, idleLimit: .zero)
        let failing = ToolDefinition(name: "fails", title: "Fails", description: "Throws.", input: .object(properties: []),
                                     output: .object(properties: []), usesWorkspace: true) { _, _ in throw CancellationError() }
        let tools = ToolRegistry(tools: [failing], activity: activity, logger: Logger(label: "test"), workspaces: store)
        let caller = ToolCaller(sessionID: "test", owner: "", defaultWorkspace: nil, detachedWorkspace: Workspace(provider: provider), progress: .none)
        // No workspace named: the registry creates one and leases it for the call.
        await #expect(throws: CancellationError.self) { try await tools.call(name: "fails", arguments: [:], caller: caller) }
        #expect(await store.count == 1)
        await store.expireIdle()
        #expect(await store.count == 0)
    }

    @Test func everyRegisteredToolDeclaresSchemasAndItsStatusOutputValidates() async throws {
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: ["RLM_DIAGNOSTIC_TOOLS": "1"])]))
        let runtime = ServerRuntime(config: config, logger: Logger(label: "test"))
        #expect(runtime.registry.tools.map(\.name) == ExpectedTools.names + ExpectedTools.diagnostic)
        for tool in runtime.registry.tools {
            #expect(!tool.description.isEmpty)
            guard case let .object(input)? = tool.listing["inputSchema"], case let .object(output)? = tool.listing["outputSchema"] else {
                Issue.record("\(tool.name) lacks object schemas")
                continue
            }
            #expect(input["type"] == "object" && output["type"] == "object")
        }
        let status = try await runtime.registry.call(name: "rlm_status", arguments: [:], context: context)
        #expect(status.isError != true)
        #expect(status.structuredContent?.objectValue?["session"] == "test")
    }
}
