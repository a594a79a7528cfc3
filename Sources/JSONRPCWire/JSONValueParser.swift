import Foundation
#if !FUZZING
// The libFuzzer build (scripts/fuzz.sh) compiles RLMCommon's JSONValue into its one module instead.
import RLMCommon
#endif

/// Parses JSON text into `JSONValue` directly: `MessageCheck`'s one parse of every message. `JSONDecoder` with
/// `JSONValue`'s `Decodable` conformance tries Bool, Int, Double and String in turn for every value, throwing (and
/// allocating) an error on each miss: most of the cost of parsing a request. Only run on bytes whose UTF-8, nesting (at
/// most `MessageCheck.maxDepth`) and numbers `MessageCheck` has already checked by a scan without recursion, so the
/// recursion here is bounded too (which is why `JSONValue.parse`, for input of any depth, stays as it is). Numbers
/// that are whole and fit an `Int` become `.int`, as with `JSONDecoder`; anything malformed gives nil.
public struct JSONValueParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    public static func parse(_ data: Data) -> JSONValue? {
        // Typed: JSONValue is `ExpressibleByNilLiteral`, so an inferred closure type would turn `nil` into `.null`.
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> JSONValue? in
            var parser = JSONValueParser(bytes: raw.bindMemory(to: UInt8.self))
            guard let value = parser.value() else { return .none }
            parser.skipWhitespace()
            return parser.index == parser.bytes.count ? value : .none
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
    }

    private mutating func value() -> JSONValue? {
        skipWhitespace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    private mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return nil }
        index += count
        return value
    }

    private mutating func object() -> JSONValue? {
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            guard let member = value() else { return nil }
            members[key] = member
            skipWhitespace()
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            switch bytes[index] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return .object(members)
            default: return nil
            }
        }
    }

    private mutating func array() -> JSONValue? {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
        while true {
            guard let element = value() else { return nil }
            elements.append(element)
            skipWhitespace()
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            switch bytes[index] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return .array(elements)
            default: return nil
            }
        }
    }

    /// A string at `index` (on its opening quote). Runs without escapes are copied whole: a 20 MB argument is one copy.
    private mutating func string() -> String? {
        index += 1
        var scalars: [UInt8] = []
        var runStart = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[runStart..<index])
                index += 1
                if scalars.isEmpty { return String(decoding: run, as: UTF8.self) }
                scalars.append(contentsOf: run)
                return String(decoding: scalars, as: UTF8.self)
            }
            if byte < 0x20 { return nil }
            guard byte == UInt8(ascii: "\\") else { index += 1; continue }
            scalars.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            index += 1
            guard index < bytes.count, escape(into: &scalars) else { return nil }
            runStart = index
        }
        return nil
    }

    /// The escape after a backslash (at `index`), appended as UTF-8; false when it is not a valid JSON escape.
    private mutating func escape(into out: inout [UInt8]) -> Bool {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(byte)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            guard let unit = hex4() else { return false }
            var scalar = UInt32(unit)
            if (0xD800..<0xDC00).contains(unit) {  // a high surrogate must be followed by its low half
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return false }
                index += 2
                guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return false }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            }
            guard let value = Unicode.Scalar(scalar) else { return false }
            out.append(contentsOf: String(Character(value)).utf8)
        default: return false
        }
        return true
    }

    private mutating func hex4() -> UInt16? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    private mutating func number() -> JSONValue? {
        let start = index
        // JSON numbers start with a minus or a digit: "+1" and ".5" are not JSON, though `Double` would read them.
        guard bytes[start] == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[start]) else { return nil }
        var integral = true
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): break
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"): integral = false
            default: break
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) || [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "e"),
                  UInt8(ascii: "E"), UInt8(ascii: "+")].contains(bytes[index]) else { break }
            index += 1
        }
        guard index > start else { return nil }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integral, let whole = Int(text) { return .int(whole) }
        guard let number = Double(text), number.isFinite else { return nil }
        if number == number.rounded(), let whole = Int(exactly: number) { return .int(whole) }
        return .double(number)
    }
}
