import Foundation
import JSONRPCWire
import RLMCommon
import Testing
@testable import RLMServer

/// The hand-written JSON reader and writer on the message path agree with Foundation's.
@Suite struct JSONWireTests {
    private static let samples: [String] = [
        #"{"a":1,"b":-2,"c":2.5,"d":1e-7,"e":1.0,"f":1e2,"g":-0,"h":9223372036854775807}"#,
        #"{"s":"plain","q":"say \"hi\"\\ / \/","c":"\n\r\t\b\f\u0001\u001f","u":"é 中 😀 \u00e9 \ud83d\ude00"}"#,
        #"[true,false,null,[],{},[[1,[2]],{"x":{"y":[null]}}]]"#,
        #"  {"spaced" :  [ 1 , 2 ] , "empty":""}  "#,
    ]

    @Test(arguments: samples) func theReaderParsesAsJSONDecoderDoes(text: String) throws {
        let data = Data(text.utf8)
        #expect(JSONValueParser.parse(data) == (try JSONDecoder().decode(JSONValue.self, from: data)))
    }

    @Test(arguments: samples) func whatTheWriterWritesReadsBackTheSame(text: String) throws {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(try JSONDecoder().decode(JSONValue.self, from: value.wireData) == value)
    }

    @Test func theWriterLeavesSlashesAndNonASCIIAlone() {
        #expect(String(decoding: JSONValue.string("a/b é").wireData, as: UTF8.self) == #""a/b é""#)
    }

    @Test func theWriterEscapesWhatJSONRequiresBetweenPlainRuns() {
        let text = "start \"q\" back\\slash\n\r\t\u{8}\u{C}\u{1}\u{1F} end"
        #expect(String(decoding: JSONValue.string(text).wireData, as: UTF8.self)
            == #""start \"q\" back\\slash\n\r\t\b\f\u0001\u001f end""#)
    }

    @Test func numbersJSONCannotHoldAreWrittenAsNull() {
        #expect(String(decoding: JSONValue.array([.double(.nan), .double(.infinity)]).wireData, as: UTF8.self) == "[null,null]")
    }

    @Test(arguments: [#"{"a":}"#, #"{"a":1"#, #""\x""#, #""\ud800""#, #"[1,]"#, "tru", #"{"a" 1}"#, "1 2"])
    func malformedTextGivesNothing(text: String) {
        // Compared with `.none` spelled out: JSONValue is `ExpressibleByNilLiteral`, so `== nil` would mean `== .null`.
        #expect(JSONValueParser.parse(Data(text.utf8)) == Optional<JSONValue>.none)
    }

    @Test func aLongStringWithoutEscapesIsReadWhole() {
        let long = String(repeating: "x", count: 1_000_000)
        #expect(JSONValueParser.parse(Data("[\"\(long)\"]".utf8)) == .array([.string(long)]))
    }
}
