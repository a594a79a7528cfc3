import Foundation
import Testing
@testable import RLMServer

/// The hand-written base64url agrees with Foundation's base64 with the URL alphabet and no padding.
@Suite struct Base64URLTests {
    private func foundation(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test func everyLengthEncodesAsFoundationDoesAndDecodesBack() {
        var random = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
            #expect(data.base64URLEncoded == foundation(data))
            #expect(Data(base64URLEncoded: data.base64URLEncoded) == data)
        }
    }

    @Test(arguments: ["a", "abcde", "ab+c", "ab/c", "ab=c", "abc=", "é"])
    func textThatIsNotUnpaddedBase64URLIsRefused(text: String) {
        #expect(Data(base64URLEncoded: text) == nil)
    }
}
