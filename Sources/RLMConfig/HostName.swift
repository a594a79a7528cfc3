/// Strict syntax for the host part of an `Origin` or `Host` header and of configured host lists: a DNS name, an IPv4
/// address, or a bracketed IPv6 address, lowercased; nothing that a lenient URL parser might read differently
/// (`\`, `@`, `%`, spaces, paths).
public enum HostName {
    public static func isValid(_ host: String) -> Bool {
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return false }
            return host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        }
        guard !host.isEmpty, host.count <= 253, !host.hasPrefix("."), !host.hasPrefix("-") else { return false }
        return host.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." }
    }

    /// Splits `host[:port]` (as in a `Host` header or an origin's authority) into a lowercased host and an optional
    /// port; nil when either part is malformed.
    public static func split(authority: String) -> Authority? {
        let lowered = authority.lowercased()
        var host = lowered
        var port: Int?
        if lowered.hasPrefix("[") {
            guard let close = lowered.firstIndex(of: "]") else { return nil }
            host = String(lowered[...close])
            let rest = lowered[lowered.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let number = Self.port(rest.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = lowered.lastIndex(of: ":") {
            host = String(lowered[..<colon])
            guard let number = Self.port(lowered[lowered.index(after: colon)...]) else { return nil }
            port = number
        }
        guard isValid(host) else { return nil }
        return Authority(host: host, port: port)
    }

    /// A parsed `host[:port]`.
    public struct Authority: Sendable, Equatable {
        /// Lowercased; IPv6 addresses keep their brackets.
        public let host: String
        public let port: Int?
    }

    private static func port(_ digits: Substring) -> Int? {
        guard (1...5).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits), value <= 65535 else { return nil }
        return value
    }

    /// The names under which this machine reaches itself.
    public static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "[::1]"]
}
