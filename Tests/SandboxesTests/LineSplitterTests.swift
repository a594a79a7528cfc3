import Foundation
import Testing
@testable import Sandboxes

@Suite struct LineSplitterTests {
    private func feed(_ splitter: inout LineSplitter, _ text: String) -> [String] {
        try! Array(text.utf8).withUnsafeBytes { bytes throws(LineSplitter.LineTooLong) in try splitter.append(bytes) }.map { String(decoding: $0, as: UTF8.self) }
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

    @Test func aLineLongerThanTheCapIsRefusedWithoutBufferingIt() {
        var splitter = LineSplitter(maxLineBytes: 10)
        #expect(feed(&splitter, "0123456789\nabc") == ["0123456789"])
        #expect(throws: LineSplitter.LineTooLong(limit: 10)) {
            _ = try splitter.append(Data(String(repeating: "y", count: 8).utf8))
        }
        // A complete line over the cap is refused too, and the splitter starts afresh after a refusal.
        var strict = LineSplitter(maxLineBytes: 4)
        #expect(throws: LineSplitter.LineTooLong(limit: 4)) {
            _ = try strict.append(Data("toolong\nok\n".utf8))
        }
        #expect(feed(&strict, "ok\n") == ["ok"])
    }
}
