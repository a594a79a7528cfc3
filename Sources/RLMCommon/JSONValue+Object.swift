extension JSONValue {
    /// The members when the value is a JSON object; nil for anything else.
    public var objectMembers: [String: JSONValue]? {
        if case let .object(members) = self { return members }
        return nil
    }
}
