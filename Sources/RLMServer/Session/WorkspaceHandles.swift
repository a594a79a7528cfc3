import Crypto
import Foundation
import RLMCommon

/// Mints and verifies workspace handles: `ws_<payload>.<mac>`, both base64url, the MAC an HMAC-SHA256 under the
/// server's key over the payload.
///
/// The payload holds a random 128-bit id, the owner's fingerprint (a keyed hash of the caller's bearer token, so the
/// token itself never appears in a handle) and an optional reference to external state (e.g. a remote sandbox id) so
/// that a handle can be self-contained for replicas sharing the key. A handle cannot be guessed (random id) nor forged
/// or altered (MAC), and a handle minted for one token is refused for another.
public struct WorkspaceHandles: Sendable {
    public static let prefix = "ws_"
    /// Raw key bytes: `SymmetricKey` is not `Sendable` in this swift-crypto, so it is rebuilt per use (cheap).
    private let keyBytes: Data

    /// `secret` nil: a random key, so handles die with the process.
    public init(secret: String?) {
        if let secret {
            keyBytes = Data(secret.utf8)
        } else {
            keyBytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        }
    }

    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// A freshly minted handle and what it says.
    public struct Minted: Sendable, Equatable {
        public let handle: String
        public let claims: Claims
    }

    /// What a verified handle says.
    public struct Claims: Sendable, Equatable {
        public let id: String
        public let owner: String
        public let reference: String?
    }

    public enum Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed
        case forged
        case foreign

        public var description: String {
            switch self {
            case .malformed: "is not a workspace handle (they look like ws_… and come from a previous tool result)"
            case .forged: "was not issued by this server (its signature does not verify; was it altered, or issued under another RLM_WORKSPACE_KEY?)"
            case .foreign: "belongs to another client (it was issued for a different bearer token)"
            }
        }
    }

    /// The owner fingerprint for a caller: empty without a token, else a keyed hash of it.
    public func owner(forToken token: String?) -> String {
        guard let token, !token.isEmpty else { return "" }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("owner\u{0}" + token).utf8), using: key)
        return Data(mac).prefix(12).base64URLEncoded
    }

    /// A new handle with a fresh random id.
    public func mint(owner: String, reference: String? = nil) -> Minted {
        let claims = Claims(id: RandomID.base64URL(bytes: 16), owner: owner, reference: reference)
        return Minted(handle: sign(claims), claims: claims)
    }

    /// The handle for known claims (deterministic: the same claims always give the same handle).
    public func sign(_ claims: Claims) -> String {
        var fields = [claims.id, claims.owner]
        if let reference = claims.reference { fields.append(reference) }
        let payload = Data(fields.joined(separator: "\u{0}").utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return Self.prefix + payload.base64URLEncoded + "." + Data(mac).base64URLEncoded
    }

    /// Checks the signature first (so a forged handle reveals nothing), then that `owner` may use it.
    public func verify(_ handle: String, owner: String) throws(Rejection) -> Claims {
        guard handle.hasPrefix(Self.prefix), handle.utf8.count < 2048 else { throw .malformed }
        let parts = handle.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        // Only the canonical encoding is a handle: base64 leaves spare bits in its last character, and a variant with
        // other spare bits would decode (and verify) alike while naming a different key in every table.
        guard parts.count == 2, let payload = Data(base64URLEncoded: String(parts[0])),
              let mac = Data(base64URLEncoded: String(parts[1])),
              payload.base64URLEncoded == parts[0], mac.base64URLEncoded == parts[1]
        else { throw .malformed }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else { throw .forged }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 2 || fields.count == 3 else { throw .malformed }
        let claims = Claims(id: fields[0], owner: fields[1], reference: fields.count == 3 ? fields[2] : nil)
        guard claims.owner == owner else { throw .foreign }
        return claims
    }
}
