/// The state `initialize` creates for a handshake-era session: the negotiated version, the log level the client set,
/// and the session's default workspace (calls that name none use it; it lives exactly as long as the session).
actor HandshakeSession {
    /// The versions a handshake-era client may negotiate, newest first.
    static let versions = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]

    nonisolated let id: String
    nonisolated let owner: String
    nonisolated let workspace: Workspace
    private(set) var protocolVersion: String?
    /// Set by `logging/setLevel`; until then tools' log lines go only to the server's own log.
    private(set) var logLevel: LogLevel?

    init(id: String, owner: String, workspace: Workspace) {
        self.id = id
        self.owner = owner
        self.workspace = workspace
    }

    /// Negotiates the version: the client's own when this server speaks it, else the newest this server speaks.
    func initialize(requested: String) throws(RPCError) -> String {
        guard protocolVersion == nil else {
            throw .invalidRequest("Invalid request: this session is already initialized; start a new session to initialize again")
        }
        let version = Self.versions.contains(requested) ? requested : Self.versions[0]
        protocolVersion = version
        return version
    }

    func setLogLevel(_ level: LogLevel) { logLevel = level }
}
