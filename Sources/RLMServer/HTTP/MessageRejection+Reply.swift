import Foundation
import JSONRPCWire

/// The JSON-RPC error response a transport sends for a message `MessageCheck` refused.
extension MessageRejection {
    var reply: Data {
        OutgoingMessage.response(id: id, error: RPCError(code: code, message: message)).data
    }
}
