import RLMCommon

/// A `resource_link` content block: a resource a tool result points to (an rlm_* run's recorded trajectory), which the
/// client reads with `resources/read`.
public struct ResourceLink: Sendable, Equatable {
    public var uri: String
    public var name: String
    public var title: String?
    public var description: String?
    public var mimeType: String?

    public init(uri: String, name: String, title: String? = nil, description: String? = nil, mimeType: String? = nil) {
        self.uri = uri
        self.name = name
        self.title = title
        self.description = description
        self.mimeType = mimeType
    }

    var json: JSONValue {
        var fields: [String: JSONValue] = ["type": "resource_link", "uri": .string(uri), "name": .string(name)]
        if let title { fields["title"] = .string(title) }
        if let description { fields["description"] = .string(description) }
        if let mimeType { fields["mimeType"] = .string(mimeType) }
        return .object(fields)
    }
}
