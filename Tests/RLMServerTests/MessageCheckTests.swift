import Foundation
import RLMCommon
import Testing
@testable import JSONRPCWire

/// The envelope check every transport runs first: each malformed message maps to the JSON-RPC error the spec names.
@Suite struct MessageCheckTests {
    private func code(_ raw: String) -> Int? {
        guard case .failure(let rejection) = MessageCheck.check(Data(raw.utf8)) else { return nil }
        return rejection.code
    }

    @Test func wellFormedMessagesAreClassifiedWithTheirIdsAsSent() throws {
        #expect(try MessageCheck.check(Data(#"{"jsonrpc":"2.0","id":"7","method":"ping"}"#.utf8)).get() == .request(id: .string("7"), method: "ping"))
        #expect(try MessageCheck.check(Data(#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#.utf8)).get() == .request(id: .integer(7), method: "ping"))
        #expect(try MessageCheck.check(Data(#"{"jsonrpc":"2.0","id":7,"result":{}}"#.utf8)).get() == .response(id: .integer(7)))
        #expect(try MessageCheck.check(Data(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"a"}}"#.utf8)).get()
            == .notification(method: "notifications/cancelled", cancels: .string("a")))
    }

    @Test func theOneParseHandsOnTheParams() throws {
        let checked = try MessageCheck.parse(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"n":[1,2.5,"s",null]}}}"#.utf8)).get()
        #expect(checked.kind == .request(id: .integer(1), method: "tools/call"))
        #expect(checked.params == ["name": "x", "arguments": ["n": [1, 2.5, "s", .null]]])
        #expect(try MessageCheck.parse(Data(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8)).get().params == [:])
    }

    @Test func notJSONIsAParseError() {
        #expect(code(#"{"jsonrpc":"2.0","id":+1,"method":"ping"}"#) == -32700)
        #expect(code(#"{"jsonrpc":"2.0","id":1,"method":"ping"} {}"#) == -32700)
        #expect(code("hello") == -32700)
        #expect(code(#"{"jsonrpc":"2.0","id":1"#) == -32700)
        #expect(code("") == -32700)
        #expect(code(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":1e999}}"#) == -32700)
        #expect(code(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":-1.5e300,"m":12}}"#) == nil)
    }

    @Test func invalidUTF8IsAParseError() {
        var bytes = Data(#"{"jsonrpc":"2.0","id":1,"method":""#.utf8)
        bytes.append(contentsOf: [0xFF, 0xFE])
        bytes.append(contentsOf: Array(#""}"#.utf8))
        guard case .failure(let rejection) = MessageCheck.check(bytes) else { Issue.record("accepted invalid UTF-8"); return }
        #expect(rejection.code == -32700 && rejection.message.contains("UTF-8"))
    }

    @Test func batchesAndWrongTypesAreInvalidRequests() {
        #expect(code(#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#) == -32600)
        #expect(code(#"{"jsonrpc":"2.0","id":2,"method":7}"#) == -32600)
        #expect(code(#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#) == -32600)
        #expect(code(#"{"jsonrpc":"2.0","id":1e40,"method":"ping"}"#) == -32600)
        #expect(code(#"{"id":1,"method":"ping"}"#) == -32600)
    }

    @Test func wrongTypedParamsOfARequestAreInvalidParamsAndKeepTheId() {
        guard case .failure(let rejection) = MessageCheck.check(Data(#"{"jsonrpc":"2.0","id":"x","method":"tools/list","params":3}"#.utf8)) else {
            Issue.record("accepted params: 3"); return
        }
        #expect(rejection.code == -32602 && rejection.id == .string("x") && rejection.answerable)
    }

    @Test func aMalformedNotificationIsDroppedNotAnswered() {
        guard case .failure(let rejection) = MessageCheck.check(Data(#"{"jsonrpc":"2.0","method":"notifications/initialized","params":"x"}"#.utf8)) else {
            Issue.record("accepted a malformed notification"); return
        }
        #expect(!rejection.answerable)
    }

    @Test func hundredThousandLevelsOfNestingAreRefusedWithoutRecursion() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(code(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"# + deep + "}}") == -32600)
        #expect(code(String(repeating: "{\"a\":", count: 100_000)) == -32600)
    }

    @Test func bracketsInsideStringsDoNotCountAsNesting() {
        let text = String(repeating: "[", count: 10_000)
        #expect(code(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\#(text)\"[{"}}"#) == nil)
    }
}
