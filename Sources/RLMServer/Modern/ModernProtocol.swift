import Foundation
import MCP

/// The vocabulary of MCP 2026-07-28 (stateless, per-request `_meta`), which swift-sdk 0.12.1 predates.
enum ModernProtocol {
    static let version = "2026-07-28"
    /// Versions served through per-request `_meta` (the handshake-era ones go through swift-sdk).
    static let supportedVersions = [version]
    /// Every version this server speaks, modern first: what -32022 and `server/discover` advertise.
    static var allVersions: [String] { supportedVersions + Version.supported.sorted().reversed() }

    enum Meta {
        static let protocolVersion = "io.modelcontextprotocol/protocolVersion"
        static let clientCapabilities = "io.modelcontextprotocol/clientCapabilities"
        static let clientInfo = "io.modelcontextprotocol/clientInfo"
        static let logLevel = "io.modelcontextprotocol/logLevel"
        static let serverInfo = "io.modelcontextprotocol/serverInfo"
        static let prefix = "io.modelcontextprotocol/"
    }

    static let tasksExtension = "io.modelcontextprotocol/tasks"

    /// Methods that name a tool, prompt or resource, and so need a matching `Mcp-Name` header on HTTP.
    static let nameBearing: [String: String] = ["tools/call": "name", "prompts/get": "name", "resources/read": "uri"]
    /// Core 2026-07-28 methods this server does not offer (it has tools only): -32601, as for any unknown method.
    static let methodsServed: Set<String> = ["server/discover", "tools/list", "tools/call", "tasks/get", "tasks/update", "tasks/cancel"]

    /// Whether a JSON-RPC request opts into the 2026-07-28 era: `server/discover`, or any
    /// `io.modelcontextprotocol/…` key in its `_meta` (so a request that carries capabilities but forgot the version
    /// gets the -32602 that names the missing field rather than a handshake-era error).
    static func isModernRequest(_ message: [String: Value]) -> Bool {
        guard case .string(let method)? = message["method"], message["id"] != nil else { return false }
        if method == "server/discover" { return true }
        guard case .object(let params)? = message["params"], case .object(let meta)? = params["_meta"] else { return false }
        return meta.keys.contains { $0.hasPrefix(Meta.prefix) }
    }

    private static let markers = [Data(Meta.prefix.utf8), Data("server/discover".utf8), Data("notifications/cancelled".utf8)]

    /// A byte search that rules out most handshake-era messages before any JSON parsing (a 10 MB upload should not be
    /// parsed twice just to learn it is not ours); a message that passes is parsed and checked properly.
    static func mayBeModern(_ data: Data) -> Bool {
        markers.contains { data.range(of: $0) != nil }
    }

    /// The JSON object in `data`, or nil when it is not one.
    static func object(_ data: Data) -> [String: Value]? {
        guard let first = data.first(where: { !" \t\r\n".utf8.contains($0) }), first == UInt8(ascii: "{") else { return nil }
        return try? JSONDecoder().decode([String: Value].self, from: data)
    }

    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data(#"{"jsonrpc":"2.0","error":{"code":-32603,"message":"unencodable message"}}"#.utf8)
    }

    static func value(_ encodable: some Encodable) -> Value {
        (try? JSONDecoder().decode(Value.self, from: encode(encodable))) ?? .null
    }

    static func response(id: Value, result: Value) -> Data {
        encode(["jsonrpc": "2.0", "id": id, "result": result] as [String: Value])
    }

    static func response(id: Value?, error: RPCError) -> Data {
        var body: [String: Value] = ["code": .int(error.code), "message": .string(error.message)]
        if let data = error.data { body["data"] = data }
        return encode(["jsonrpc": "2.0", "id": id ?? .null, "error": .object(body)] as [String: Value])
    }

    static func notification(_ method: String, _ params: Value) -> Data {
        encode(["jsonrpc": "2.0", "method": .string(method), "params": params] as [String: Value])
    }

    /// Request ids may be strings or numbers; the key keeps them apart ("7" is not 7).
    static func key(_ id: Value) -> String? {
        switch id {
        case .string(let text): "s:" + text
        case .int(let number): "n:" + String(number)
        case .double(let number): "n:" + (number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number))
        default: nil
        }
    }
}

/// A JSON-RPC error of the 2026-07-28 layer, with the HTTP status the streamable-HTTP binding gives it.
struct RPCError: Error, Sendable, Equatable {
    let code: Int
    let message: String
    let data: Value?

    init(code: Int, message: String, data: Value? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    static func invalidParams(_ message: String) -> RPCError { .init(code: -32602, message: message) }
    static func invalidRequest(_ message: String) -> RPCError { .init(code: -32600, message: message) }
    static func methodNotFound(_ method: String) -> RPCError {
        .init(code: -32601, message: "Method not found: \(method) (this server offers server/discover, tools/list, tools/call and the "
            + "io.modelcontextprotocol/tasks methods)")
    }
    /// One sentence (clients show it as is); the tool names travel in `data.availableTools`.
    static func unknownTool(_ name: String, available: [String]) -> RPCError {
        .init(code: -32602, message: "Unknown tool \"\(name.prefix(64))\": call tools/list for the tools this server offers (also in error.data.availableTools)",
              data: ["availableTools": .array(available.map(Value.string))])
    }
    static func headerMismatch(_ message: String) -> RPCError { .init(code: -32020, message: "Header mismatch: " + message) }
    static func unsupportedVersion(_ requested: String) -> RPCError {
        .init(code: -32022, message: "Unsupported protocol version \(requested); this server speaks \(ModernProtocol.allVersions.joined(separator: ", ")) "
              + "(the handshake-era versions through initialize)",
              data: ["supported": .array(ModernProtocol.allVersions.map(Value.string)), "requested": .string(requested)])
    }
    static func missingCapability(_ extensionID: String, for method: String) -> RPCError {
        .init(code: -32021, message: "Missing required client capability: \(method) needs the \(extensionID) extension declared in "
              + "_meta[\"\(ModernProtocol.Meta.clientCapabilities)\"].extensions",
              data: ["requiredCapabilities": ["extensions": .object([extensionID: .object([:])])]])
    }

    /// The status the streamable-HTTP binding prescribes (400 for the modern errors, 404 for an unknown method).
    var httpStatus: Int {
        switch code {
        case -32601: 404
        case -32603: 500
        default: 400
        }
    }
}
