import Foundation
import HTTPTypes
import Logging
import RLMCommon
import RLMConfig
import Testing
@testable import RLMServer

/// The 2026-07-28 layer without a transport: envelope checks, header rules and the dispatcher's result shapes.
@Suite struct ModernProtocolTests {
    let runtime: ServerRuntime
    let dispatcher: ProtocolDispatcher

    init() throws {
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: ["RLM_DIAGNOSTIC_TOOLS": "1"])]))
        runtime = ServerRuntime(config: config, logger: Logger(label: "test"))
        dispatcher = ProtocolDispatcher(runtime: runtime)
    }

    private func message(_ method: String, meta: [String: JSONValue]? = ModernProtocolTests.meta(), _ params: [String: JSONValue] = [:]) -> JSONRPCRequest {
        var params = params
        if let meta { params["_meta"] = .object(meta) }
        return JSONRPCRequest(id: .integer(7), method: method, params: params)
    }

    private func isModern(_ request: JSONRPCRequest) -> Bool {
        ModernProtocol.isModernRequest(method: request.method, params: request.params)
    }

    static func meta(_ capabilities: [String: JSONValue] = [:]) -> [String: JSONValue] {
        [ModernProtocol.Meta.protocolVersion: "2026-07-28", ModernProtocol.Meta.clientCapabilities: .object(capabilities)]
    }

    private func parseError(_ message: JSONRPCRequest) -> RPCError? {
        do {
            _ = try ModernRequest.parse(message, tools: runtime.registry)
            return nil
        } catch {
            return error
        }
    }

    @Test func modernRequestsAreToldApartByShape() {
        #expect(isModern(message("tools/list")))
        #expect(isModern(message("server/discover", meta: nil)))
        #expect(!isModern(message("tools/list", meta: nil)))
        #expect(!isModern(message("tools/list", meta: ["progressToken": "t"])))
    }

    @Test func envelopeErrorsNameWhatToFix() {
        #expect(parseError(message("tools/list", meta: nil))?.code == -32602)
        #expect(parseError(message("tools/list", meta: [ModernProtocol.Meta.clientCapabilities: [:]]))?.message.contains("protocolVersion") == true)
        #expect(parseError(message("tools/list", meta: [ModernProtocol.Meta.protocolVersion: "2026-07-28"]))?.message.contains("clientCapabilities") == true)
        let unsupported = parseError(message("tools/list", meta: [ModernProtocol.Meta.protocolVersion: "2025-11-25", ModernProtocol.Meta.clientCapabilities: [:]]))
        #expect(unsupported?.code == -32022)
        #expect(unsupported?.data?.objectValue?["requested"] == "2025-11-25")
        #expect(unsupported?.data?.objectValue?["supported"]?.arrayValue?.first == "2026-07-28")
        #expect(parseError(message("prompts/list"))?.code == -32601)
        #expect(parseError(message("prompts/list"))?.httpStatus == 404)
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

    private func result(_ message: JSONRPCRequest) async throws -> [String: JSONValue] {
        let modern = try ModernRequest.parse(message, tools: runtime.registry)
        let call = MethodCall(id: message.id, method: message.method, params: message.params, era: .modern, runtime: runtime,
                              session: nil, modern: modern, owner: "", emit: { _ in })
        let reply = try #require(await dispatcher.respond(call))
        let response = try JSONDecoder().decode([String: JSONValue].self, from: reply.message.data)
        return try #require(response["result"]?.objectValue)
    }

    @Test func resultsAreStampedAndToolsListIsCacheableInRegistrationOrder() async throws {
        let discover = try await result(message("server/discover"))
        #expect(discover["resultType"] == "complete")
        // 2026-07-28 deprecates logging: advertising it draws a conformance warning.
        #expect(discover["capabilities"]?.objectValue?["logging"] == nil)
        #expect(discover["_meta"]?.objectValue?[ModernProtocol.Meta.serverInfo]?.objectValue?["name"] == "rlm-mcp")
        #expect(discover["capabilities"]?.objectValue?["extensions"] == [ModernProtocol.tasksExtension: [:]])
        let list = try await result(message("tools/list"))
        #expect(list["cacheScope"] == "public" && list["ttlMs"] == .int(ToolsList.ttlMilliseconds))
        let names = list["tools"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue }
        #expect(names == runtime.registry.tools.map(\.name))
        let call = try await result(message("tools/call", ["name": "rlm_status", "arguments": [:]]))
        #expect(call["resultType"] == "complete" && call["structuredContent"]?.objectValue?["session"] == "stateless")
    }

    @Test func workspaceToolsAdvertiseTheArgumentAndResultField() throws {
        let exec = try #require(runtime.registry.tool(named: "sandbox_exec"))
        #expect(exec.workspaceUse == .required && exec.description.contains("pass it back"))
        let input = try #require(exec.listing["inputSchema"]?.objectValue)
        #expect(input["properties"]?.objectValue?["workspace"]?.objectValue?["type"] == "string")
        #expect(input["required"] == ["code"])
        let output = try #require(exec.listing["outputSchema"]?.objectValue)
        #expect(output["required"]?.arrayValue?.contains("workspace") == true)
        let status = try #require(runtime.registry.tool(named: "rlm_status"))
        #expect(status.workspaceUse == .optional)
        #expect(runtime.registry.tool(named: "diagnostic_progress")?.longRunning == true)
        #expect(runtime.registry.tool(named: "diagnostic_progress")?.workspaceUse == WorkspaceUse.none)
    }
}
