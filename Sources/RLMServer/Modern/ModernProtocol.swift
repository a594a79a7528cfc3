import Foundation
import RLMCommon

/// The vocabulary of MCP 2026-07-28 (stateless, per-request `_meta`).
enum ModernProtocol {
    static let version = "2026-07-28"
    /// Versions served through per-request `_meta` (the handshake-era ones go through `initialize`).
    static let supportedVersions = [version]
    /// Every version this server speaks, modern first: what -32022 and `server/discover` advertise.
    static var allVersions: [String] { supportedVersions + HandshakeSession.versions }

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

    /// Whether a request opts into the 2026-07-28 era: `server/discover`, or any `io.modelcontextprotocol/…` key in its
    /// `_meta` (so a request that carries capabilities but forgot the version gets the -32602 that names the missing
    /// field rather than a handshake-era error).
    static func isModernRequest(method: String, params: [String: JSONValue]) -> Bool {
        if method == ServerDiscover.name { return true }
        guard case .object(let meta)? = params["_meta"] else { return false }
        return meta.keys.contains { $0.hasPrefix(Meta.prefix) }
    }
}
