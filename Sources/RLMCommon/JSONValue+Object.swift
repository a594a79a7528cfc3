extension JSONValue {
    /// The members when the value is a JSON object; nil for anything else.
    public var objectMembers: [String: JSONValue]? {
        if case let .object(members) = self { return members }
        return nil
    }

    /// The text when the value is a JSON string; nil for anything else.
    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    /// The number when the value is a JSON integer (or a float with no fraction); nil for anything else.
    public var intValue: Int? {
        switch self {
        case let .int(number): number
        case let .double(number) where number.rounded() == number && abs(number) < 1e15: Int(number)
        default: nil
        }
    }
}
