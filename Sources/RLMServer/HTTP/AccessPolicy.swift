import Foundation
import RLMConfig

/// Who may talk to the HTTP endpoints: the Host allow-list and the Origin allow-list (both DNS-rebinding
/// protection) and the optional bearer token.
public struct AccessPolicy: Sendable {
    public enum Verdict: Equatable, Sendable {
        case allowed
        case forbiddenHost(String)
        case forbiddenOrigin(String)
        case unauthorized(String)
    }

    let allowedOrigins: [String]?
    /// Lowercased host names; nil allows any (a wildcard bind with no list configured).
    let allowedHosts: Set<String>?
    let token: Secret?

    public init(allowedOrigins: [String]?, allowedHosts: Set<String>? = nil, token: Secret?) {
        self.allowedOrigins = allowedOrigins
        self.allowedHosts = allowedHosts
        self.token = token
    }

    public init(config: RLMConfig) {
        self.init(allowedOrigins: config.allowedOrigins, allowedHosts: Self.hosts(config: config), token: config.authToken)
    }

    /// `MCP_ALLOWED_HOSTS`, else what the bind address implies: a loopback bind answers to the loopback names, a
    /// named bind to its name (and loopback), a wildcard bind to any name (it cannot know its own).
    static func hosts(config: RLMConfig) -> Set<String>? {
        if let configured = config.allowedHosts { return configured.contains("*") ? nil : Set(configured) }
        let bind = config.host.lowercased()
        if ["0.0.0.0", "::", "[::]", ""].contains(bind) { return nil }
        let bracketed = bind.contains(":") && !bind.hasPrefix("[") ? "[\(bind)]" : bind
        return HostName.loopbackNames.union([bracketed])
    }

    /// `host`, `origin` and `authorization` are the raw header values (`host` is the request's authority), nil when
    /// absent.
    public func check(host: String? = nil, origin: String?, authorization: String?) -> Verdict {
        if let host, let allowedHosts {
            guard let parsed = HostName.split(authority: host), allowedHosts.contains(parsed.host) else {
                return .forbiddenHost("Host \(host.prefix(200)) is not a name this server answers to; add it to MCP_ALLOWED_HOSTS if it is yours")
            }
        }
        if let origin, !isAllowed(origin: origin) {
            return .forbiddenOrigin("Origin \(origin.prefix(200)) is not allowed; add it to MCP_ALLOWED_ORIGINS to let a browser page on it connect")
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
        if let allowedOrigins, allowedOrigins.contains("*") { return true }
        guard let parsed = Origin(origin) else { return false }
        if let allowedOrigins {
            return allowedOrigins.contains { Origin($0) == parsed }
        }
        // The default: pages served from this machine, on any port.
        return HostName.loopbackNames.contains(parsed.host)
    }

    /// An `Origin` header, parsed strictly: `http(s)://host[:port]` and nothing else, so that no lenient URL parser
    /// can be talked into seeing a different host (`http://evil.example\@localhost`).
    struct Origin: Equatable {
        let scheme: String
        let host: String
        let port: Int?

        init?(_ text: String) {
            let trimmed = text.hasSuffix("/") ? String(text.dropLast()) : text
            guard let separator = trimmed.range(of: "://") else { return nil }
            let scheme = trimmed[..<separator.lowerBound].lowercased()
            guard scheme == "http" || scheme == "https",
                  let authority = HostName.split(authority: String(trimmed[separator.upperBound...]))
            else { return nil }
            self.scheme = scheme
            host = authority.host
            port = authority.port ?? (scheme == "https" ? 443 : 80)
        }
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
