import JSONRPCWire
import RLMCommon

/// A JSON-RPC request id (or progress token) exactly as sent: a string or an integer, and "7" is not 7.
typealias RequestID = IncomingMessage.RequestID

extension IncomingMessage.RequestID {
    /// The id read from a JSON value; nil for anything but a string or an integral number.
    init?(json: JSONValue) {
        switch json {
        case .string(let text): self = .string(text)
        case .int(let number): self = .integer(Int64(number))
        case .double(let number) where number == number.rounded() && abs(number) < 1e15: self = .integer(Int64(number))
        default: return nil
        }
    }

    /// The id as it goes back on the wire.
    var json: JSONValue {
        switch self {
        case .string(let text): .string(text)
        case .integer(let number): .int(Int(number))
        }
    }
}
