import RLMCommon

/// `server/discover` (2026-07-28): versions, capabilities and instructions in one cacheable answer. No `logging`
/// capability: 2026-07-28 deprecates it and conformance checkers warn about it.
enum ServerDiscover: MCPMethod {
    static let name = "server/discover"
    static let answersAlwaysTheSame = true
    static let eras: Set<Era> = [.modern]

    static let result: JSONValue = [
        "supportedVersions": .array(ModernProtocol.allVersions.map(JSONValue.string)),
        "capabilities": [
            "tools": ["listChanged": false],
            "resources": ["listChanged": false],
            "extensions": .object([ModernProtocol.tasksExtension: .object([:])]),
        ],
        "instructions": .string(Initialize.instructions + " Sandbox state lives in workspaces: pass back the `workspace` a "
            + "sandbox tool returns to keep working in the same sandbox."),
        "ttlMs": .int(ToolsList.ttlMilliseconds),
        "cacheScope": "public",
    ]

    static func respond(to call: MethodCall) async throws -> JSONValue { result }
}
