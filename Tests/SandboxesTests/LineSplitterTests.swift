import Foundation
import Testing
@testable import Sandboxes

@Suite struct LineSplitterTests {
    private func feed(_ splitter: inout LineSplitter, _ text: String) -> [String] {
        Array(text.utf8).withUnsafeBytes { splitter.append($0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func splitsAcrossChunksAndStripsCarriageReturns() {
        var splitter = LineSplitter()
        #expect(feed(&splitter, "one\ntw") == ["one"])
        #expect(feed(&splitter, "o\r\nthree\n\nfo") == ["two", "three", ""])
        #expect(feed(&splitter, "ur") == [])
        #expect(feed(&splitter, "\n") == ["four"])
    }

    @Test func aLongLineArrivingInSmallChunksComesOutWhole() {
        var splitter = LineSplitter()
        let chunk = String(repeating: "x", count: 4096)
        for _ in 0..<1000 { #expect(feed(&splitter, chunk).isEmpty) }
        let lines = feed(&splitter, "\nnext\n")
        #expect(lines.count == 2 && lines[0].count == 4_096_000 && lines[1] == "next")
    }
}
