import Foundation
import HTTPTypes
import Logging
import MCP
import RLMConfig
import Testing
@testable import RLMServer

/// The 2026-07-28 layer without a transport: envelope checks, header rules and the dispatcher's result shapes.
@Suite struct ModernProtocolTests {
    let runtime: ServerRuntime
    let dispatcher: ModernDispatcher

    init() throws {
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: ["RLM_DIAGNOSTIC_TOOLS": "1"])]))
        runtime = ServerRuntime(config: config, logger: Logger(label: "test"))
        dispatcher = ModernDispatcher(runtime: runtime)
    }

    private func message(_ method: String, meta: [String: Value]? = ModernProtocolTests.meta(), _ params: [String: Value] = [:]) -> [String: Value] {
        var params = params
        if let meta { params["_meta"] = .object(meta) }
        return ["jsonrpc": "2.0", "id": 7, "method": .string(method), "params": .object(params)]
    }

    static func meta(_ capabilities: [String: Value] = [:]) -> [String: Value] {
        [ModernProtocol.Meta.protocolVersion: "2026-07-28", ModernProtocol.Meta.clientCapabilities: .object(capabilities)]
    }

    private func parseError(_ message: [String: Value]) -> RPCError? {
        do {
            _ = try dispatcher.parse(message)
            return nil
        } catch {
            return error
        }
    }

    @Test func modernRequestsAreToldApartByShape() {
        #expect(ModernProtocol.isModernRequest(message("tools/list")))
        #expect(ModernProtocol.isModernRequest(message("server/discover", meta: nil)))
        #expect(!ModernProtocol.isModernRequest(message("tools/list", meta: nil)))
        #expect(!ModernProtocol.isModernRequest(message("tools/list", meta: ["progressToken": "t"])))
        #expect(!ModernProtocol.isModernRequest(["jsonrpc": "2.0", "method": "notifications/initialized"]))
        #expect(ModernProtocol.mayBeModern(Data(#"{"method":"server/discover"}"#.utf8)))
        #expect(!ModernProtocol.mayBeModern(Data(#"{"method":"tools/call","params":{"name":"x"}}"#.utf8)))
    }

    @Test func envelopeErrorsNameWhatToFix() {
        #expect(parseError(message("tools/list", meta: nil))?.code == -32602)
        #expect(parseError(message("tools/list", meta: [ModernProtocol.Meta.clientCapabilities: [:]]))?.message.contains("protocolVersion") == true)
        #expect(parseError(message("tools/list", meta: [ModernProtocol.Meta.protocolVersion: "2026-07-28"]))?.message.contains("clientCapabilities") == true)
        let unsupported = parseError(message("tools/list", meta: [ModernProtocol.Meta.protocolVersion: "2025-11-25", ModernProtocol.Meta.clientCapabilities: [:]]))
        #expect(unsupported?.code == -32022)
        #expect(unsupported?.data?.objectValue?["requested"] == "2025-11-25")
        #expect(unsupported?.data?.objectValue?["supported"]?.arrayValue?.first == "2026-07-28")
        #expect(parseError(message("resources/list"))?.code == -32601)
        #expect(parseError(message("resources/list"))?.httpStatus == 404)
        let unknown = parseError(message("tools/call", ["name": "nope"]))
        #expect(unknown?.message.contains("nope") == true && unknown?.message.contains("rlm_status") == false)
        #expect(unknown?.data?.objectValue?["availableTools"]?.arrayValue?.contains("rlm_status") == true)
        #expect(parseError(message("tools/call", ["name": "rlm_status", "arguments": 3]))?.code == -32602)
        let missingCapability = parseError(message("tasks/get", ["taskId": "t"]))
        #expect(missingCapability?.code == -32021)
        #expect(missingCapability?.data == ["requiredCapabilities": ["extensions": [ModernProtocol.tasksExtension: [:]]]])
        #expect(parseError(message("tasks/get", meta: Self.meta(["extensions": [ModernProtocol.tasksExtension: [:]]]), ["taskId": "t"])) == nil)
    }

    @Test func headersMustMirrorTheBody() throws {
        let call = message("tools/call", ["name": "rlm_status"])
        var headers: HTTPFields = [HTTPField.Name("MCP-Protocol-Version")!: "2026-07-28", HTTPField.Name("Mcp-Method")!: "tools/call",
                                   HTTPField.Name("Mcp-Name")!: "rlm_status"]
        try ModernHTTPEndpoint.checkHeaders(headers, against: call)
        headers[HTTPField.Name("Mcp-Name")!] = "=?base64?" + Data("rlm_status".utf8).base64EncodedString() + "?="
        try ModernHTTPEndpoint.checkHeaders(headers, against: call)
        headers[HTTPField.Name("Mcp-Name")!] = "sandbox_exec"
        #expect(throws: RPCError.headerMismatch("Mcp-Name header value 'sandbox_exec' does not match body value 'rlm_status'")) {
            try ModernHTTPEndpoint.checkHeaders(headers, against: call)
        }
        headers[HTTPField.Name("Mcp-Name")!] = nil
        #expect(throws: RPCError.self) { try ModernHTTPEndpoint.checkHeaders(headers, against: call) }
        // Methods without a name need no Mcp-Name.
        try ModernHTTPEndpoint.checkHeaders([HTTPField.Name("MCP-Protocol-Version")!: "2026-07-28", HTTPField.Name("Mcp-Method")!: "tools/list"],
                                            against: message("tools/list"))
        #expect(ModernHTTPEndpoint.decodeHeaderValue("=?base64?SGVsbG8sIOS4lueVjA==?=") == "Hello, 世界")
        #expect(ModernHTTPEndpoint.decodeHeaderValue("plain") == "plain")
        #expect(ModernHTTPEndpoint.decodeHeaderValue("=?base64?%%%?=") == nil)
    }

    private func result(_ message: [String: Value]) async throws -> [String: Value] {
        let request = try dispatcher.parse(message)
        let data = try #require(await dispatcher.handle(request, owner: "") { _ in })
        let response = try JSONDecoder().decode([String: Value].self, from: data)
        return try #require(response["result"]?.objectValue)
    }

    @Test func resultsAreStampedAndToolsListIsCacheableInRegistrationOrder() async throws {
        let discover = try await result(message("server/discover"))
        #expect(discover["resultType"] == "complete")
        #expect(discover["_meta"]?.objectValue?[ModernProtocol.Meta.serverInfo]?.objectValue?["name"] == "rlm-mcp")
        #expect(discover["capabilities"]?.objectValue?["extensions"] == [ModernProtocol.tasksExtension: [:]])
        let list = try await result(message("tools/list"))
        #expect(list["cacheScope"] == "public" && list["ttlMs"] == .int(ModernDispatcher.listTTLMilliseconds))
        let names = list["tools"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue }
        #expect(names == runtime.registry.tools.map(\.name))
        let call = try await result(message("tools/call", ["name": "rlm_status", "arguments": [:]]))
        #expect(call["resultType"] == "complete" && call["structuredContent"]?.objectValue?["session"] == "stateless")
    }

    @Test func workspaceToolsAdvertiseTheArgumentAndResultField() throws {
        let exec = try #require(runtime.registry.tool(named: "sandbox_exec"))
        #expect(exec.workspaceUse == .required && exec.description.contains("pass it back"))
        let input = try #require(exec.mcpTool.inputSchema.objectValue)
        #expect(input["properties"]?.objectValue?["workspace"]?.objectValue?["type"] == "string")
        #expect(input["required"] == ["code"])
        let output = try #require(exec.mcpTool.outputSchema?.objectValue)
        #expect(output["required"]?.arrayValue?.contains("workspace") == true)
        let status = try #require(runtime.registry.tool(named: "rlm_status"))
        #expect(status.workspaceUse == .optional)
        #expect(runtime.registry.tool(named: "diagnostic_progress")?.longRunning == true)
        #expect(runtime.registry.tool(named: "diagnostic_progress")?.workspaceUse == WorkspaceUse.none)
    }
}
