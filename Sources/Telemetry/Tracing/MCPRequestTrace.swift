/// What the span of one MCP request is named after and carries (OpenTelemetry's MCP semantic conventions): filled
/// by the protocol layer, of either era.
public struct MCPRequestTrace: Sendable {
    /// `tools/call`, `tools/list`, …
    public var method: String
    /// The tool name for `tools/call`; nil for methods without a target.
    public var target: String?
    /// The handshake-era session id; nil for 2026-07-28 requests, which have no session.
    public var sessionID: String?
    /// The JSON-RPC id, when the layer that sees the request knows it.
    public var requestID: String?
    /// `_meta.traceparent` (and `_meta.tracestate`) of the request: the caller's trace, which this span continues.
    public var traceparent: String?
    public var tracestate: String?
    /// The negotiated or per-request protocol version.
    public var protocolVersion: String?

    public init(method: String, target: String? = nil, sessionID: String? = nil, requestID: String? = nil,
                traceparent: String? = nil, tracestate: String? = nil, protocolVersion: String? = nil) {
        self.method = method
        self.target = target
        self.sessionID = sessionID
        self.requestID = requestID
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.protocolVersion = protocolVersion
    }

    /// `{mcp.method.name} {target}`, or the method alone.
    var spanName: String { target.map { "\(method) \($0)" } ?? method }
}
