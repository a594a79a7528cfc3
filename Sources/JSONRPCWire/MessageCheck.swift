import Foundation
#if !FUZZING
import RLMCommon
#endif

/// Checks one raw JSON-RPC message before any transport or handler decodes it, so that every malformed message gets the
/// error the JSON-RPC spec names (-32700 not JSON, -32600 not a valid request, -32602 bad params) instead of reaching a
/// decoder that may stall, crash or overflow the stack on it.
public enum MessageCheck {
    /// Deeper nesting than this is refused before parsing: no MCP message needs it, and recursive decoders further on
    /// must never see 100,000 levels.
    public static let maxDepth = 512

    /// Checks one raw message and parses it once: its kind and its `params`, or the rejection to answer with.
    public static func parse(_ data: Data) -> Result<CheckedMessage, MessageRejection> {
        guard String(validating: data, as: UTF8.self) != nil else {
            return .failure(reject(-32700, "Parse error: the message is not valid UTF-8; send JSON text encoded as UTF-8"))
        }
        switch shape(of: data) {
        case .empty:
            return .failure(reject(-32700, "Parse error: the message is empty; send one JSON-RPC object"))
        case .tooDeep:
            return .failure(reject(-32600, "Invalid request: the message nests deeper than \(maxDepth) levels of arrays and objects"))
        case .array:
            return .failure(reject(-32600, "Invalid request: batch arrays are not supported; send each JSON-RPC message on its own as an object"))
        case .other:
            return .failure(reject(-32700, "Parse error: a JSON-RPC message must be one JSON object"))
        case .numberOutOfRange(let number):
            return .failure(reject(-32700, "Parse error: the number \(number.prefix(40)) is out of range (beyond a 64-bit float)"))
        case .object:
            break
        }
        // The one parse of the message: the envelope is read off it, and `params` handed on as parsed.
        guard let root = JSONValueParser.parse(data), case .object(let members) = root else {
            return .failure(reject(-32700, "Parse error: the message is not valid JSON; send one JSON-RPC object per message"))
        }
        let envelope = Envelope(members)
        return envelope.classify().map { CheckedMessage(kind: $0, params: envelope.params) }
    }

    /// What the message is, as `parse` finds it; for tests and the fuzz target, which need no params.
    public static func check(_ data: Data) -> Result<IncomingMessage, MessageRejection> {
        parse(data).map(\.kind)
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): true
        default: false
        }
    }

    /// The number token, when it does not fit a 64-bit float (1e999): decoders further on would fail or give infinity.
    /// Only tokens with an exponent or over 300 characters can, so most numbers cost nothing beyond the scan.
    private static func outOfRange(_ token: Slice<UnsafeRawBufferPointer>) -> String? {
        guard token.count > 300 || token.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) else { return nil }
        let text = String(decoding: token, as: UTF8.self)
        guard let value = Double(text) else { return nil }  // malformed: the JSON parser reports it
        return value.isFinite ? nil : text
    }

    private static func reject(_ code: Int, _ message: String, id: IncomingMessage.RequestID? = nil, answerable: Bool = true) -> MessageRejection {
        MessageRejection(code: code, message: message, id: id, answerable: answerable)
    }

    private enum Shape { case empty, object, array, other, tooDeep, numberOutOfRange(String) }

    /// The top-level kind and whether nesting stays within `maxDepth`: a byte scan without recursion that skips strings.
    private static func shape(of data: Data) -> Shape {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Shape in
            var first: UInt8?
            var depth = 0
            var inString = false
            var escaped = false
            var numberStart: Int?
            for (offset, byte) in bytes.enumerated() {
                if let start = numberStart, !Self.isNumberByte(byte) {
                    numberStart = nil
                    if let token = Self.outOfRange(bytes[start..<offset]) { return .numberOutOfRange(token) }
                }
                if inString {
                    if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                    continue
                }
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                    continue
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    if depth > maxDepth { return .tooDeep }
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if numberStart == nil { numberStart = offset }
                default:
                    break
                }
                if first == nil { first = byte }
            }
            if let start = numberStart, let token = Self.outOfRange(bytes[start...]) { return .numberOutOfRange(token) }
            switch first {
            case nil: return .empty
            case UInt8(ascii: "{")?: return .object
            case UInt8(ascii: "[")?: return .array
            default: return .other
            }
        }
    }
}

/// The envelope fields of a JSON-RPC message, each reduced to the JSON kind it was sent as, and its `params` object.
private struct Envelope {
    let jsonrpc: Field?
    let id: Field?
    let method: Field?
    let paramsKind: Field?
    let hasResult: Bool
    let hasError: Bool
    /// `params.requestId` of `notifications/cancelled`.
    let cancels: Field?
    /// `params` when it is an object (the only kind `classify` accepts), else empty.
    let params: [String: JSONValue]

    init(_ members: [String: JSONValue]) {
        jsonrpc = members["jsonrpc"].map(Field.init)
        id = members["id"].map(Field.init)
        method = members["method"].map(Field.init)
        paramsKind = members["params"].map(Field.init)
        hasResult = members["result"] != nil
        hasError = members["error"] != nil
        if case .object(let fields)? = members["params"] { params = fields } else { params = [:] }
        cancels = method == .string("notifications/cancelled") ? params["requestId"].map(Field.init) : nil
    }

    func classify() -> Result<IncomingMessage, MessageRejection> {
        let requestID = id.flatMap(\.requestID)
        // No id (or a null one) and a method: a notification, which may never be answered, only dropped.
        let isNotification = (id == nil || id == .null) && method != nil && !hasResult && !hasError
        func fail(_ code: Int, _ message: String) -> Result<IncomingMessage, MessageRejection> {
            .failure(MessageRejection(code: code, message: message, id: requestID, answerable: !isNotification))
        }
        guard jsonrpc == .string("2.0") else { return fail(-32600, "Invalid request: \"jsonrpc\" must be the string \"2.0\"") }
        if hasResult || hasError {
            guard method == nil else { return fail(-32600, "Invalid request: a message has either \"method\" or \"result\"/\"error\", not both") }
            guard id == nil || id == .null || requestID != nil else {
                return fail(-32600, "Invalid request: \"id\" must be a string or an integer")
            }
            return .success(.response(id: requestID))
        }
        guard let method else {
            return fail(-32600, "Invalid request: the message has no \"method\" (nor a \"result\" or \"error\" of a response)")
        }
        guard case .string(let name) = method else { return fail(-32600, "Invalid request: \"method\" must be a string") }
        if let id, id != .null, requestID == nil {
            return fail(-32600, "Invalid request: \"id\" must be a string or an integer")
        }
        switch paramsKind {
        case nil, .object?: break
        default: return fail(isNotification ? -32600 : -32602, "Invalid params: \"params\" of \(name) must be an object")
        }
        guard let requestID else { return .success(.notification(method: name, cancels: cancels.flatMap(\.requestID))) }
        return .success(.request(id: requestID, method: name))
    }
}

/// One JSON value reduced to its kind (strings and integers kept, as ids and methods need them).
private enum Field: Equatable {
    case null, bool, string(String), integer(Int64), number, object, array

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool: self = .bool
        case .string(let text): self = .string(text)
        case .int(let number): self = Int64(exactly: number).map(Field.integer) ?? .number
        case .double: self = .number
        case .object: self = .object
        case .array: self = .array
        }
    }

    var requestID: IncomingMessage.RequestID? {
        switch self {
        case .string(let text): .string(text)
        case .integer(let number): .integer(number)
        default: nil
        }
    }
}
