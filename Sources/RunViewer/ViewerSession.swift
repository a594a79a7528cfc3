import Crypto
import Foundation
import RLMCommon
import RLMConfig

/// The login cookie: an HMAC of a fixed label under `MCP_AUTH_TOKEN`, so every replica with the same token accepts it,
/// changing the token logs everyone out, and the cookie never contains the token itself.
struct ViewerSession: Sendable {
    static let cookieName = "rlm_viewer"
    let token: Secret

    var cookieValue: String {
        let key = SymmetricKey(data: Data(token.exposedValue.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("rlm-mcp viewer session v1".utf8), using: key)
        return mac.hexEncoded
    }

    /// `Set-Cookie` for a successful login: script cannot read it, other sites never send it.
    var setCookie: String {
        "\(Self.cookieName)=\(cookieValue); Path=/runs; HttpOnly; SameSite=Strict; Max-Age=43200"
    }

    static let clearCookie = "\(cookieName)=; Path=/runs; HttpOnly; SameSite=Strict; Max-Age=0"

    /// Whether the `Cookie` header carries this server's session cookie (compared in constant time).
    func accepts(cookieHeader: String?) -> Bool {
        guard let cookieHeader else { return false }
        let expected = cookieValue
        for pair in cookieHeader.split(separator: ";") {
            let trimmed = pair.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(Self.cookieName + "=") else { continue }
            if Self.constantTimeEquals(String(trimmed.dropFirst(Self.cookieName.count + 1)), expected) { return true }
        }
        return false
    }

    /// Whether a submitted token is `MCP_AUTH_TOKEN`, in time that does not depend on where they differ.
    func matches(submitted: String) -> Bool {
        Self.constantTimeEquals(submitted, token.exposedValue)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        // Compare digests so neither the length nor the first differing byte shows in the timing.
        let left = Array(SHA256.hash(data: Data(a.utf8))), right = Array(SHA256.hash(data: Data(b.utf8)))
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
