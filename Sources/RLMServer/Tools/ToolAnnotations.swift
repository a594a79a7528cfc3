import RLMCommon

/// The behaviour hints a tool advertises in `tools/list` (all optional; clients treat a missing hint as unknown).
public struct ToolAnnotations: Sendable, Equatable {
    public var title: String?
    public var readOnlyHint: Bool?
    public var destructiveHint: Bool?
    public var idempotentHint: Bool?
    public var openWorldHint: Bool?

    public init(title: String? = nil, readOnlyHint: Bool? = nil, destructiveHint: Bool? = nil, idempotentHint: Bool? = nil,
                openWorldHint: Bool? = nil) {
        self.title = title
        self.readOnlyHint = readOnlyHint
        self.destructiveHint = destructiveHint
        self.idempotentHint = idempotentHint
        self.openWorldHint = openWorldHint
    }

    /// The `annotations` object, or nil when no hint is set.
    var json: JSONValue? {
        var hints: [String: JSONValue] = [:]
        hints["title"] = title.map(JSONValue.string)
        hints["readOnlyHint"] = readOnlyHint.map(JSONValue.bool)
        hints["destructiveHint"] = destructiveHint.map(JSONValue.bool)
        hints["idempotentHint"] = idempotentHint.map(JSONValue.bool)
        hints["openWorldHint"] = openWorldHint.map(JSONValue.bool)
        return hints.isEmpty ? nil : .object(hints)
    }
}
