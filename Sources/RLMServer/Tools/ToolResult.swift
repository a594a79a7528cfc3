import RLMCommon

/// What one `tools/call` answers: text blocks for people and models, the structured result for programs, and whether
/// the tool failed (a failure the caller can act on, not a protocol error).
public struct ToolResult: Sendable, Equatable {
    public var texts: [String]
    /// `resource_link` blocks after the text (an rlm_* run's trajectory).
    public var links: [ResourceLink]
    public var structuredContent: JSONValue?
    public var isError: Bool

    public init(texts: [String], links: [ResourceLink] = [], structuredContent: JSONValue? = nil, isError: Bool = false) {
        self.texts = texts
        self.links = links
        self.structuredContent = structuredContent
        self.isError = isError
    }

    /// The `CallToolResult` object of the MCP schema.
    public var json: JSONValue {
        var fields: [String: JSONValue] = [
            "content": .array(texts.map { ["type": "text", "text": .string($0)] } + links.map(\.json)),
            "isError": .bool(isError),
        ]
        if let structuredContent { fields["structuredContent"] = structuredContent }
        return .object(fields)
    }
}
