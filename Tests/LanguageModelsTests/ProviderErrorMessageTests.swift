import AsyncHTTPClient
import Foundation
import Logging
import RLMCommon
import Testing
@testable import LanguageModels

/// The message a rejected request reports is the provider's own, found in each provider's error body shape.
@Suite struct ProviderErrorMessageTests {
    private let http = ProviderHTTP(client: { HTTPClient.shared }, baseURL: "https://provider.invalid", headers: [],
                                    retry: RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(1)), timeout: .seconds(1),
                                    logger: Logger(label: "test"), secrets: ["sk-secret-123"])

    @Test func openAIShapedBodiesGiveTheErrorMessage() {
        let body = #"{"error": {"message": "This model's maximum context length is 8192 tokens", "type": "invalid_request_error", "code": null}}"#
        #expect(http.providerMessage(Data(body.utf8)) == "This model's maximum context length is 8192 tokens")
    }

    @Test func anthropicShapedBodiesGiveTheErrorMessage() {
        let body = #"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#
        #expect(http.providerMessage(Data(body.utf8)) == "Overloaded")
    }

    @Test func aTopLevelMessageIsUsedWhenThereIsNoErrorObject() {
        #expect(http.providerMessage(Data(#"{"message": "quota exceeded", "error": "rate_limited"}"#.utf8)) == "quota exceeded")
    }

    @Test func otherBodiesAreQuotedAsTextWithSecretsRemoved() {
        #expect(http.providerMessage(Data("upstream said no to sk-secret-123".utf8)) == "upstream said no to [redacted]")
        #expect(http.providerMessage(Data(#"{"error": {"message": "bad key sk-secret-123"}}"#.utf8)) == "bad key [redacted]")
        #expect(http.providerMessage(Data(#"["not", "an", "object"]"#.utf8)) == #"["not", "an", "object"]"#)
    }
}
