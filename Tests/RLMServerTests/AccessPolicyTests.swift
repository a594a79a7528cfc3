import RLMConfig
import Testing
@testable import RLMServer

@Suite struct AccessPolicyTests {
    @Test(arguments: ["http://localhost:5173", "https://localhost", "http://127.0.0.1:8000", "http://[::1]:3000", "http://localhost/"])
    func defaultAllowsLocalPages(origin: String) {
        #expect(AccessPolicy(allowedOrigins: nil, token: nil).check(origin: origin, authorization: nil) == .allowed)
    }

    @Test(arguments: ["https://evil.example", "http://localhost.evil.example", "null", "file://", "http://127.0.0.2.nip.io",
                      "http://evil.com\\@localhost", "http://evil.com@localhost", "http://localhost/../", "http://localhost:99999",
                      "http://localhost%2f.evil.example", "http:// localhost", "javascript://localhost"])
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

    @Test func theHostHeaderMustNameThisServer() {
        let policy = AccessPolicy(allowedOrigins: nil, allowedHosts: HostName.loopbackNames, token: nil)
        for host in ["localhost:8000", "127.0.0.1", "[::1]:3000", "LOCALHOST"] {
            #expect(policy.check(host: host, origin: nil, authorization: nil) == .allowed, "\(host)")
        }
        for host in ["evil.example", "evil.example:8000", "localhost.evil.example", "127.0.0.1.nip.io", "evil\\@localhost", "localhost:x"] {
            guard case .forbiddenHost = policy.check(host: host, origin: nil, authorization: nil) else {
                Issue.record("\(host) was allowed")
                continue
            }
        }
        #expect(AccessPolicy(allowedOrigins: nil, allowedHosts: nil, token: nil).check(host: "any.example", origin: nil, authorization: nil) == .allowed)
    }
}
