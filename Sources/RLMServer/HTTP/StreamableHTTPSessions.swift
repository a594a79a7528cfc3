import Foundation

/// The session map behind `/mcp`: one `Connection` + transport per handshake-era session, created by `initialize`,
/// ended by DELETE, by idle expiry or by shutdown.
actor StreamableHTTPSessions {
    private struct Entry {
        let connection: Connection
        let transport: StreamableHTTPSession
        var lastUsed: ContinuousClock.Instant
    }

    private let runtime: ServerRuntime
    private let idleLimit: Duration
    private var entries: [String: Entry] = [:]

    init(runtime: ServerRuntime, idleLimit: Duration) {
        self.runtime = runtime
        self.idleLimit = idleLimit
    }

    var count: Int { entries.count }

    func handle(_ request: SessionHTTPRequest) async -> SessionHTTPResponse {
        if let id = request.header("Mcp-Session-Id") {
            guard var entry = entries[id] else {
                return .error(statusCode: 404, .invalidRequest(
                    "Not Found: MCP session \(id) does not exist (it ended or expired); start a new session with initialize"))
            }
            entry.lastUsed = .now
            entries[id] = entry
            let response = await entry.transport.handle(request)
            if request.method == "DELETE", response.statusCode == 200 { await close(id: id) }
            return response
        }
        guard request.method == "POST" else {
            return .error(statusCode: 400, .invalidRequest("Bad Request: the Mcp-Session-Id header is required for \(request.method)"))
        }
        guard case .request(let first)? = request.message, first.method == Initialize.name else {
            return .error(statusCode: 400, .invalidRequest(
                "Bad Request: no Mcp-Session-Id header; a session starts with an initialize request"))
        }
        return await open(request)
    }

    private func open(_ request: SessionHTTPRequest) async -> SessionHTTPResponse {
        let id = SessionIDs.make()
        let config = runtime.config
        let limits = ReplayLimits(events: config.sseReplayEvents, bytes: config.sseReplayKB * 1024, streams: ReplayLimits.standard.streams)
        let transport = StreamableHTTPSession(sessionID: id, limits: limits, logger: runtime.logger)
        let owner = runtime.workspaceOwner(authorization: request.header("Authorization"))
        let connection = await Connection.open(runtime: runtime, id: id, owner: owner) { message in await transport.send(message) }
        await transport.bind(connection)
        entries[id] = Entry(connection: connection, transport: transport, lastUsed: .now)
        let response = await transport.handle(request)
        if response.statusCode >= 400 { await close(id: id) }
        runtime.logger.debug("MCP session opened", metadata: ["session": "\(id)"])
        return response
    }

    func close(id: String) async {
        guard let entry = entries.removeValue(forKey: id) else { return }
        await entry.transport.terminateSession()
        await entry.connection.close()
        runtime.logger.debug("MCP session closed", metadata: ["session": "\(id)"])
    }

    /// Closes sessions unused for longer than the idle limit, unless a call is still running in them.
    func expireIdle() async {
        let now = ContinuousClock.now
        for (id, entry) in entries where now - entry.lastUsed > idleLimit {
            if await entry.transport.openCalls > 0 { continue }
            runtime.logger.info("MCP session expired after idling", metadata: ["session": "\(id)"])
            await close(id: id)
        }
    }

    func closeAll() async {
        for id in entries.keys { await close(id: id) }
    }
}
