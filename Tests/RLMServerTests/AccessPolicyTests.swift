import RLMConfig
import Testing
@testable import RLMServer

@Suite struct AccessPolicyTests {
    @Test(arguments: ["http://localhost:5173", "https://localhost", "http://127.0.0.1:8000", "http://[::1]:3000", "http://localhost/"])
    func defaultAllowsLocalPages(origin: String) {
        #expect(AccessPolicy(allowedOrigins: nil, token: nil).check(origin: origin, authorization: nil) == .allowed)
    }

    @Test(arguments: ["https://evil.example", "http://localhost.evil.example", "null", "file://", "http://127.0.0.2.nip.io"])
    func defaultRefusesEverythingElse(origin: String) {
        guard case .forbiddenOrigin = AccessPolicy(allowedOrigins: nil, token: nil).check(origin: origin, authorization: nil) else {
            Issue.record("\(origin) was allowed")
            return
        }
    }

    @Test func noOriginHeaderIsANonBrowserClientAndIsAllowed() {
        #expect(AccessPolicy(allowedOrigins: nil, token: nil).check(origin: nil, authorization: nil) == .allowed)
    }

    @Test func aConfiguredListReplacesTheDefault() {
        let policy = AccessPolicy(allowedOrigins: ["https://app.example.com"], token: nil)
        #expect(policy.check(origin: "https://APP.example.com", authorization: nil) == .allowed)
        #expect(policy.check(origin: "http://localhost:5173", authorization: nil) != .allowed)
        #expect(AccessPolicy(allowedOrigins: ["*"], token: nil).check(origin: "https://any.example", authorization: nil) == .allowed)
    }

    @Test func bearerTokenIsCheckedWhenConfigured() {
        let policy = AccessPolicy(allowedOrigins: nil, token: Secret("s3cret"))
        #expect(policy.check(origin: nil, authorization: "Bearer s3cret") == .allowed)
        #expect(policy.check(origin: nil, authorization: "bearer s3cret") == .allowed)
        for header in [nil, "Bearer", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret"] as [String?] {
            guard case let .unauthorized(message) = policy.check(origin: nil, authorization: header) else {
                Issue.record("\(String(describing: header)) was accepted")
                continue
            }
            #expect(!message.contains("s3cret"))
        }
    }

    @Test func originIsCheckedBeforeTheToken() {
        let policy = AccessPolicy(allowedOrigins: nil, token: Secret("t"))
        guard case .forbiddenOrigin = policy.check(origin: "https://evil.example", authorization: "Bearer t") else {
            Issue.record("a foreign page holding the token got in")
            return
        }
    }

    @Test func constantTimeComparison() {
        #expect(AccessPolicy.constantTimeEquals("abc", "abc"))
        #expect(!AccessPolicy.constantTimeEquals("abc", "abd"))
        #expect(!AccessPolicy.constantTimeEquals("abc", "abcd"))
        #expect(!AccessPolicy.constantTimeEquals("", "a"))
    }
}
