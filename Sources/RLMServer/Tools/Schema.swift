import RLMCommon

/// A JSON Schema subset that renders to the `inputSchema`/`outputSchema` a client sees and validates values against itself,
/// so the schema a tool advertises and the checks its arguments pass through can never drift apart.
public indirect enum Schema: Sendable {
    case string(description: String? = nil, oneOf: [String]? = nil, minLength: Int? = nil)
    case integer(description: String? = nil, minimum: Int? = nil, maximum: Int? = nil)
    case number(description: String? = nil, minimum: Double? = nil, maximum: Double? = nil)
    case boolean(description: String? = nil)
    case array(of: Schema, description: String? = nil, maxItems: Int? = nil)
    /// `properties` keeps its order so the advertised schema reads the way it was written.
    case object(properties: [(String, Schema)], required: [String] = [], description: String? = nil, closed: Bool = true)
    /// Any JSON value (used for free-form output such as usage tables).
    case any(description: String? = nil)
    case nullable(Schema)

    /// The JSON Schema document for this schema.
    public var json: JSONValue {
        switch self {
        case let .string(description, oneOf, minLength):
            var out: [String: JSONValue] = ["type": "string"]
            out["description"] = description.map(JSONValue.string)
            out["enum"] = oneOf.map { .array($0.map(JSONValue.string)) }
            out["minLength"] = minLength.map(JSONValue.int)
            return .object(out)
        case let .integer(description, minimum, maximum):
            var out: [String: JSONValue] = ["type": "integer"]
            out["description"] = description.map(JSONValue.string)
            out["minimum"] = minimum.map(JSONValue.int)
            out["maximum"] = maximum.map(JSONValue.int)
            return .object(out)
        case let .number(description, minimum, maximum):
            var out: [String: JSONValue] = ["type": "number"]
            out["description"] = description.map(JSONValue.string)
            out["minimum"] = minimum.map(JSONValue.double)
            out["maximum"] = maximum.map(JSONValue.double)
            return .object(out)
        case let .boolean(description):
            var out: [String: JSONValue] = ["type": "boolean"]
            out["description"] = description.map(JSONValue.string)
            return .object(out)
        case let .array(items, description, maxItems):
            var out: [String: JSONValue] = ["type": "array", "items": items.json]
            out["description"] = description.map(JSONValue.string)
            out["maxItems"] = maxItems.map(JSONValue.int)
            return .object(out)
        case let .object(properties, required, description, closed):
            var out: [String: JSONValue] = [
                "type": "object",
                "properties": .object(Dictionary(uniqueKeysWithValues: properties.map { ($0.0, $0.1.json) })),
                "additionalProperties": .bool(!closed),
            ]
            if !required.isEmpty { out["required"] = .array(required.map(JSONValue.string)) }
            out["description"] = description.map(JSONValue.string)
            return .object(out)
        case let .any(description):
            return description.map { .object(["description": .string($0)]) } ?? .object([:])
        case let .nullable(inner):
            guard case var .object(out) = inner.json, case let .string(type)? = out["type"] else { return inner.json }
            out["type"] = .array([.string(type), "null"])
            return .object(out)
        }
    }
}

/// One way a value broke its schema; `path` names the field the way the caller wrote it (`timeout_s`, `items[2].name`).
public struct SchemaViolation: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String {
        path.isEmpty ? problem : "argument \"\(path)\" \(problem)"
    }
}

extension Schema {
    /// Checks `value` and returns the first violation, naming the offending field.
    public func validate(_ value: JSONValue, at path: String = "") throws(SchemaViolation) {
        switch self {
        case let .string(_, oneOf, minLength):
            guard case let .string(text) = value else { throw mismatch(path, expected: "a string", got: value) }
            if let oneOf, !oneOf.contains(text) {
                throw SchemaViolation(path: path, problem: "must be one of \(oneOf.joined(separator: ", ")) (got \"\(text)\")")
            }
            if let minLength, text.count < minLength {
                throw SchemaViolation(path: path, problem: minLength == 1 ? "must not be empty" : "must have at least \(minLength) characters")
            }
        case let .integer(_, minimum, maximum):
            let number: Int
            switch value {
            case let .int(n): number = n
            case let .double(d) where d == d.rounded() && abs(d) < 1e15: number = Int(d)
            default: throw mismatch(path, expected: "an integer", got: value)
            }
            try checkRange(Double(number), minimum.map(Double.init), maximum.map(Double.init), path)
        case let .number(_, minimum, maximum):
            let number: Double
            switch value {
            case let .int(n): number = Double(n)
            case let .double(d): number = d
            default: throw mismatch(path, expected: "a number", got: value)
            }
            try checkRange(number, minimum, maximum, path)
        case .boolean:
            guard case .bool = value else { throw mismatch(path, expected: "true or false", got: value) }
        case let .array(items, _, maxItems):
            guard case let .array(elements) = value else { throw mismatch(path, expected: "an array", got: value) }
            if let maxItems, elements.count > maxItems {
                throw SchemaViolation(path: path, problem: "must have at most \(maxItems) items (got \(elements.count))")
            }
            for (index, element) in elements.enumerated() {
                try items.validate(element, at: "\(path)[\(index)]")
            }
        case let .object(properties, required, _, closed):
            guard case let .object(fields) = value else { throw mismatch(path, expected: "an object", got: value) }
            let known = Dictionary(uniqueKeysWithValues: properties)
            for name in required where fields[name] == nil || (fields[name] == .null && !(known[name]?.acceptsNull ?? false)) {
                throw SchemaViolation(path: join(path, name), problem: "is required")
            }
            for name in fields.keys.sorted() {
                guard let schema = known[name] else {
                    if closed {
                        let accepted = properties.map(\.0).joined(separator: ", ")
                        throw SchemaViolation(path: join(path, name), problem: "is not accepted here (accepted: \(accepted.isEmpty ? "none" : accepted))")
                    }
                    continue
                }
                // An explicit null for an optional field means "not given", as most clients send it.
                if fields[name] == .null, !required.contains(name) { continue }
                try schema.validate(fields[name]!, at: join(path, name))
            }
        case .any:
            return
        case let .nullable(inner):
            if value != .null { try inner.validate(value, at: path) }
        }
    }

    var acceptsNull: Bool {
        switch self {
        case .nullable, .any: true
        default: false
        }
    }

    private func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    private func checkRange(_ number: Double, _ minimum: Double?, _ maximum: Double?, _ path: String) throws(SchemaViolation) {
        if let minimum, number < minimum { throw SchemaViolation(path: path, problem: "must be at least \(format(minimum)) (got \(format(number)))") }
        if let maximum, number > maximum { throw SchemaViolation(path: path, problem: "must be at most \(format(maximum)) (got \(format(number)))") }
    }

    private func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    private func mismatch(_ path: String, expected: String, got value: JSONValue) -> SchemaViolation {
        SchemaViolation(path: path, problem: "must be \(expected) (got \(Self.describe(value)))")
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case let .bool(b): "boolean \(b)"
        case let .int(n): "integer \(n)"
        case let .double(d): "number \(d)"
        case let .string(s): "string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}
