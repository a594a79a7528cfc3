import Foundation
import Testing
@testable import RLMCommon

/// The shared conversions: durations to numbers, random ids, bytes as text.
@Suite struct UnitsAndIDsTests {
    @Test func durationsConvertWithFractionsKept() {
        let duration = Duration.seconds(2) + .milliseconds(250) + .nanoseconds(7)
        #expect(duration.nanoseconds == 2_250_000_007)
        #expect(abs(duration.milliseconds - 2250.000007) < 1e-9)
        #expect(abs(duration.seconds - 2.250000007) < 1e-12)
    }

    @Test func hexIDsHaveTwoLowercaseDigitsPerByteAndDoNotRepeat() {
        let ids = (0..<500).map { _ in RandomID.hex(bytes: 16) }
        #expect(Set(ids).count == 500)
        #expect(ids.allSatisfy { $0.count == 32 && $0.allSatisfy { "0123456789abcdef".contains($0) } })
    }

    @Test func base64URLIDsAreUnpaddedAndURLSafe() {
        let id = RandomID.base64URL(bytes: 32)
        #expect(id.count == 43)
        #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        #expect(Data(base64URLEncoded: id)?.count == 32)
    }

    @Test func bytesEncodeAsTextBothWays() {
        #expect([0x00, 0x0f, 0xa5, 0xff].hexEncoded == "000fa5ff")
        let bytes = Data([0xfb, 0xff, 0xfe])
        #expect(bytes.base64URLEncoded == "-__-")
        #expect(Data(base64URLEncoded: "-__-") == bytes)
        #expect(Data(base64URLEncoded: "a+b/") == nil)
    }
}
