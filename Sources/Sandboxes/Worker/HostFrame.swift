import Foundation
import RLMCommon

/// A frame the host sends to a worker (an `op` line of the worker protocol, DESIGN.md section 2).
enum HostFrame: Encodable, Sendable {
    /// Runs `code` in the worker's namespace; `variables` are defined first.
    case exec(id: String, code: String, variables: [String: JSONValue]?, maxOutputChars: Int, timeoutSeconds: Int64)
    /// Loads a file of the working directory into the variable `name`, as text or parsed JSON.
    case loadContext(id: String, path: String, kind: String, name: String)
    /// Answers the worker's request `id`.
    case reply(id: String, SubCallReply)

    private enum Key: String, CodingKey {
        case op, id, code, variables, path, kind, name, result, results, error
        case maxOutputChars = "max_output_chars", timeoutSeconds = "timeout_s"
    }

    func encode(to encoder: any Encoder) throws {
        var frame = encoder.container(keyedBy: Key.self)
        switch self {
        case let .exec(id, code, variables, maxOutputChars, timeoutSeconds):
            try frame.encode("exec", forKey: .op)
            try frame.encode(id, forKey: .id)
            try frame.encode(code, forKey: .code)
            try frame.encodeIfPresent(variables, forKey: .variables)
            try frame.encode(maxOutputChars, forKey: .maxOutputChars)
            try frame.encode(timeoutSeconds, forKey: .timeoutSeconds)
        case let .loadContext(id, path, kind, name):
            try frame.encode("load_context", forKey: .op)
            try frame.encode(id, forKey: .id)
            try frame.encode(path, forKey: .path)
            try frame.encode(kind, forKey: .kind)
            try frame.encode(name, forKey: .name)
        case let .reply(id, reply):
            try frame.encode("reply", forKey: .op)
            try frame.encode(id, forKey: .id)
            switch reply {
            case let .text(text): try frame.encode(text, forKey: .result)
            case let .texts(texts): try frame.encode(texts, forKey: .results)
            case let .failure(message): try frame.encode(message, forKey: .error)
            }
        }
    }

    /// The frame as one protocol line, newline included.
    var line: Data? {
        guard var data = try? JSONEncoder().encode(self) else { return nil }
        data.append(UInt8(ascii: "\n"))
        return data
    }
}
