import RLMCommon
import Testing
@testable import RLMServer

@Suite struct SchemaTests {
    let schema: Schema = .object(properties: [
        ("task", .string(minLength: 1)),
        ("mode", .string(oneOf: ["fast", "thorough"])),
        ("timeout_s", .integer(minimum: 1, maximum: 3600)),
        ("temperature", .number(minimum: 0, maximum: 2)),
        ("verbose", .boolean()),
        ("tags", .array(of: .string(), maxItems: 2)),
        ("options", .object(properties: [("depth", .integer())], required: ["depth"])),
        ("note", .nullable(.string())),
    ], required: ["task"])

    private func violation(_ arguments: [String: JSONValue]) -> String? {
        do {
            try schema.validate(.object(arguments))
            return nil
        } catch {
            return error.description
        }
    }

    @Test func acceptsAValidCall() {
        #expect(violation([
            "task": "sum", "mode": "fast", "timeout_s": 30, "temperature": 0.5, "verbose": true,
            "tags": ["a"], "options": ["depth": 2], "note": .null,
        ]) == nil)
        #expect(violation(["task": "x", "timeout_s": .double(30)]) == nil, "a JSON number with no fraction is an integer")
    }

    @Test(arguments: [
        ([:], #"argument "task" is required"#),
        (["task": .null], #"argument "task" is required"#),
        (["task": ""], #"argument "task" must not be empty"#),
        (["task": 3], #"argument "task" must be a string (got integer 3)"#),
        (["task": "x", "mode": "slow"], #"argument "mode" must be one of fast, thorough (got "slow")"#),
        (["task": "x", "timeout_s": "60"], #"argument "timeout_s" must be an integer (got string "60")"#),
        (["task": "x", "timeout_s": 0], #"argument "timeout_s" must be at least 1 (got 0)"#),
        (["task": "x", "timeout_s": 5000], #"argument "timeout_s" must be at most 3600 (got 5000)"#),
        (["task": "x", "timeout_s": 1.5], #"argument "timeout_s" must be an integer (got number 1.5)"#),
        (["task": "x", "temperature": 2.5], #"argument "temperature" must be at most 2 (got 2.5)"#),
        (["task": "x", "verbose": "yes"], #"argument "verbose" must be true or false (got string "yes")"#),
        (["task": "x", "tags": ["a", 1]], #"argument "tags[1]" must be a string (got integer 1)"#),
        (["task": "x", "tags": ["a", "b", "c"]], #"argument "tags" must have at most 2 items (got 3)"#),
        (["task": "x", "options": [:]], #"argument "options.depth" is required"#),
        (["task": "x", "options": ["depth": 1, "width": 2]], #"argument "options.width" is not accepted here (accepted: depth)"#),
        (["task": "x", "colour": "red"], #"argument "colour" is not accepted here (accepted: task, mode, timeout_s, temperature, verbose, tags, options, note)"#),
    ] as [([String: JSONValue], String)])
    func namesTheOffendingField(arguments: [String: JSONValue], message: String) {
        #expect(violation(arguments) == message)
    }

    @Test func rendersJSONSchema() {
        guard case let .object(json) = schema.json, case let .object(properties)? = json["properties"] else {
            Issue.record("not an object schema")
            return
        }
        #expect(json["type"] == "object")
        #expect(json["required"] == ["task"])
        #expect(json["additionalProperties"] == false)
        #expect(properties["mode"] == ["type": "string", "enum": ["fast", "thorough"]])
        #expect(properties["timeout_s"] == ["type": "integer", "minimum": 1, "maximum": 3600])
        #expect(properties["note"] == ["type": ["string", "null"]])
        #expect(properties["tags"] == ["type": "array", "items": ["type": "string"], "maxItems": 2])
    }
}
