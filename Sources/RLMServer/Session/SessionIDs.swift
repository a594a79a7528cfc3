import RLMCommon

/// Unguessable session and task ids: 128 random bits as hex.
enum SessionIDs {
    static func make() -> String { RandomID.hex(bytes: 16) }
}
