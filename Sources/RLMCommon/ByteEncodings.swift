import Foundation

/// Bytes as text, written once: lowercase hex for ids and digests, base64url for tokens and signed handles.
extension Sequence<UInt8> {
    /// Two lowercase hex digits a byte.
    public var hexEncoded: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// Base64url without padding (RFC 4648 §5), safe in URLs, headers and JSON without escaping. Written out by hand:
/// going through `base64EncodedString()` and three `replacingOccurrences` cost more than the HMAC when a 2026-07-28
/// call names its workspace handle (checked on every such call).
extension Data {
    private static let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Each ASCII byte's 6-bit value in the alphabet, 0xFF for bytes outside it.
    private static let base64URLValues: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in base64URLAlphabet.enumerated() { values[Int(byte)] = UInt8(value) }
        return values
    }()

    public var base64URLEncoded: String {
        let alphabet = Self.base64URLAlphabet
        var out: [UInt8] = []
        out.reserveCapacity((count * 4 + 2) / 3)
        var bits: UInt32 = 0
        var pending = 0
        for byte in self {
            bits = bits << 8 | UInt32(byte)
            pending += 8
            while pending >= 6 {
                pending -= 6
                out.append(alphabet[Int((bits >> UInt32(pending)) & 0x3F)])
            }
        }
        if pending > 0 { out.append(alphabet[Int((bits << UInt32(6 - pending)) & 0x3F)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil unless `text` is base64url (no padding) of whole bytes; spare bits in the last character are ignored, as
    /// base64 decoders do (`WorkspaceHandles` re-encodes to refuse non-canonical variants).
    public init?(base64URLEncoded text: String) {
        let values = Self.base64URLValues
        guard text.utf8.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var bits: UInt32 = 0
        var pending = 0
        for byte in text.utf8 {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            bits = bits << 6 | UInt32(value)
            pending += 6
            if pending >= 8 {
                pending -= 8
                out.append(UInt8((bits >> UInt32(pending)) & 0xFF))
            }
        }
        self.init(out)
    }
}
