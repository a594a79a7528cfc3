import Foundation
import JSONRPCWire
import MCP

/// The JSON-RPC error response a transport sends for a message `MessageCheck` refused.
extension MessageRejection {
    var reply: Data {
        let id: Value? = switch self.id {
        case .string(let text)?: .string(text)
        case .integer(let number)?: .int(Int(number))
        case nil: nil
        }
        return ModernProtocol.response(id: id, error: RPCError(code: code, message: message))
    }
}
