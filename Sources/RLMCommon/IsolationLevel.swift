/// How local workers are fenced off from the host, strongest first: what `RLM_SANDBOX_ISOLATION` names (besides
/// `auto`) and what the local sandbox reports it runs under. The one isolation enum of the configuration and the sandbox.
public enum IsolationLevel: String, Sendable, CaseIterable, Codable {
    /// bubblewrap: private filesystem view (read-only system dirs, private work dir and /tmp), no network, own PID space.
    case bubblewrap
    /// Linux namespaces via `unshare`: no network, own PID space; the host filesystem stays visible (read-only to the
    /// worker's user where permissions allow).
    case unshare
    /// No isolation at all; only with an explicit opt-in.
    case none
}
