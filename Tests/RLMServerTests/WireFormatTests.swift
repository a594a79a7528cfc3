import Foundation
import Testing
@testable import RLMServer

@Suite struct WireFormatTests {
    @Test func sseEventsAreFramedWithNameAndBlankLine() {
        #expect(String(decoding: SSE.event(Data(#"{"a":1}"#.utf8)), as: UTF8.self) == "event: message\ndata: {\"a\":1}\n\n")
        #expect(String(decoding: SSE.event(Data("/messages?sessionId=x".utf8), name: "endpoint"), as: UTF8.self)
            == "event: endpoint\ndata: /messages?sessionId=x\n\n")
    }

    @Test(arguments: [
        (#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}"#, "request n:7 tools/call x"),
        (#"{"jsonrpc":"2.0","id":"7","method":"ping"}"#, "request s:7 ping -"),
        (#"{"jsonrpc":"2.0","id":7,"result":{}}"#, "response"),
        (#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#, "notification notifications/cancelled"),
    ])
    func parsesEachMessageOnceIntoItsKind(json: String, expected: String) throws {
        let summary = switch try JSONRPCMessage.parse(Data(json.utf8)).get() {
        case .request(let request): "request \(request.id.key) \(request.method) \(request.params["name"]?.stringValue ?? "-")"
        case .notification(let notification): "notification \(notification.method)"
        case .response: "response"
        }
        #expect(summary == expected)
    }

    @Test func idsGoBackAsTheyCame() {
        #expect(String(decoding: OutgoingMessage.response(id: .string("7"), result: [:]).data, as: UTF8.self).contains(#""id":"7""#))
        #expect(String(decoding: OutgoingMessage.response(id: .integer(7), result: [:]).data, as: UTF8.self).contains(#""id":7"#))
    }

    @Test func sessionIDsAreLongAndUnique() {
        let ids = (0..<1000).map { _ in SessionIDs.make() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }
}
