/// Which generation of MCP a message belongs to: decided per message for 2026-07-28 (its `_meta`), per session after
/// `initialize` for the handshake era.
enum Era: Sendable, Hashable {
    /// 2024-11-05 … 2025-11-25: a session opened by `initialize`.
    case handshake
    /// 2026-07-28: every request carries its protocol version and capabilities in `_meta`; no session.
    case modern
}
