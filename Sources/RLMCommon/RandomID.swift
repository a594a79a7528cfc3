import Foundation

/// Random names for things the server creates (sandboxes, sessions, runs, handles, tokens): one source of randomness.
public enum RandomID {
    /// 64 random bits in base 36 (at most 13 characters of `[0-9a-z]`): unique enough for a name, safe in a path or label.
    public static func base36() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// `count` random bytes from the system's cryptographic generator, for tokens and unguessable ids.
    public static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// `count` random bytes as lowercase hex (`2 × count` characters of `[0-9a-f]`).
    public static func hex(bytes count: Int) -> String {
        bytes(count).hexEncoded
    }

    /// `count` random bytes as base64url without padding: the shortest text that is safe in URLs, headers and JSON.
    public static func base64URL(bytes count: Int) -> String {
        Data(bytes(count)).base64URLEncoded
    }
}
