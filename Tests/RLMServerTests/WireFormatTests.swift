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
        (#"{"jsonrpc":"2.0","id":7,"method":"tools/call"}"#, JSONRPCPeek.request(id: "n:7")),
        (#"{"jsonrpc":"2.0","id":"7","method":"ping"}"#, .request(id: "s:7")),
        (#"{"jsonrpc":"2.0","id":7,"result":{}}"#, .response(id: "n:7")),
        (#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}"#, .response(id: "s:a")),
        (#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}"#, .cancelled(id: "n:7")),
        (#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, .other),
        ("not json", .other),
    ])
    func peeksAtJSONRPCMessageKinds(json: String, expected: JSONRPCPeek) {
        #expect(JSONRPCPeek(Data(json.utf8)) == expected)
    }

    @Test func sessionIDsAreLongAndUnique() {
        let ids = (0..<1000).map { _ in SessionIDs.make() }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy(\.isHexDigit) })
    }
}
