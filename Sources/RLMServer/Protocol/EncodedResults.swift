import Foundation
import RLMCommon
import Synchronization

/// The encoded results of methods whose answer never changes for the life of the process (`tools/list`,
/// `server/discover`): encoding the tool list's schemas costs more than everything else the request does, so each is
/// encoded once per era and spliced into the response.
final class EncodedResults: Sendable {
    private let cache = Mutex<[String: Data]>([:])

    /// The response to `id` carrying `result`, whose encoding is kept under `key` after the first time.
    func response(id: RequestID, key: String, result: @autoclosure () -> JSONValue) -> OutgoingMessage {
        let encoded = cache.withLock { cached in
            if let hit = cached[key] { return hit }
            let fresh = OutgoingMessage.encode(result())
            cached[key] = fresh
            return fresh
        }
        var data = Data(#"{"jsonrpc":"2.0","id":"#.utf8)
        data.append(OutgoingMessage.encode(id.json))
        data.append(contentsOf: Array(#","result":"#.utf8))
        data.append(encoded)
        data.append(UInt8(ascii: "}"))
        return OutgoingMessage(data: data, route: .response(id))
    }
}
