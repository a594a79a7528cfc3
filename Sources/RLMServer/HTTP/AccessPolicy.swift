import Foundation
import RLMConfig

/// Who may talk to the HTTP endpoints: the Origin allow-list (DNS-rebinding protection) and the optional bearer token.
public struct AccessPolicy: Sendable {
    public enum Verdict: Equatable, Sendable {
        case allowed
        case forbiddenOrigin(String)
        case unauthorized(String)
    }

    let allowedOrigins: [String]?
    let token: Secret?

    public init(allowedOrigins: [String]?, token: Secret?) {
        self.allowedOrigins = allowedOrigins
        self.token = token
    }

    public init(config: RLMConfig) {
        self.init(allowedOrigins: config.allowedOrigins, token: config.authToken)
    }

    /// `origin` and `authorization` are the raw header values, nil when absent.
    public func check(origin: String?, authorization: String?) -> Verdict {
        if let origin, !isAllowed(origin: origin) {
            return .forbiddenOrigin("Origin \(origin) is not allowed; add it to MCP_ALLOWED_ORIGINS to let a browser page on it connect")
        }
        if let token {
            guard let authorization, authorization.lowercased().hasPrefix("bearer ") else {
                return .unauthorized("missing bearer token: send the header \"Authorization: Bearer <MCP_AUTH_TOKEN>\"")
            }
            let presented = authorization.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
            guard Self.constantTimeEquals(presented, token.exposedValue) else {
                return .unauthorized("the bearer token does not match MCP_AUTH_TOKEN")
            }
        }
        return .allowed
    }

    func isAllowed(origin: String) -> Bool {
        let normalized = origin.hasSuffix("/") ? String(origin.dropLast()) : origin
        if let allowedOrigins {
            return allowedOrigins.contains("*") || allowedOrigins.contains { $0.caseInsensitiveCompare(normalized) == .orderedSame }
        }
        // The default: pages served from this machine, on any port.
        guard let url = URL(string: normalized), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host?.lowercased()
        else { return false }
        return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "[::1]"
    }

    /// Compares without an early exit, so response timing does not reveal how much of the token was right.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
