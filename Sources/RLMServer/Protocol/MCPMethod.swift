import RLMCommon

/// One JSON-RPC request method the server answers. A new method is a type conforming to this in `Methods/` and one line
/// in `MethodTable.requests`.
protocol MCPMethod: SendableMetatype {
    static var name: String { get }
    /// The eras that offer the method; elsewhere it is "method not found".
    static var eras: Set<Era> { get }
    /// The result object. Throws `RPCError` for a JSON-RPC error answer; `CancellationError` sends no answer at all.
    static func respond(to call: MethodCall) async throws -> JSONValue
    /// True when every successful answer in an era is the same (the result is then encoded once and reused).
    static var answersAlwaysTheSame: Bool { get }
}

extension MCPMethod {
    static var answersAlwaysTheSame: Bool { false }
}

/// One notification method the server acts on. Notifications are never answered; unknown ones are ignored.
protocol MCPNotificationMethod: SendableMetatype {
    static var name: String { get }
    static func receive(_ notification: JSONRPCNotification, on connection: Connection?) async
}

/// Everything a method handler may use: the request, its era and who sent it.
struct MethodCall: Sendable {
    let id: RequestID
    let method: String
    let params: [String: JSONValue]
    let era: Era
    let runtime: ServerRuntime
    /// The handshake-era session the request arrived in; nil for 2026-07-28 requests, which have none.
    let session: HandshakeSession?
    /// The request's parsed `_meta` in the 2026-07-28 era.
    let modern: ModernRequest?
    /// The workspace owner fingerprint of the caller's bearer token ("" without one).
    let owner: String
    /// Sends a notification that belongs to this request (progress); the gate drops it once the response went out.
    let emit: @Sendable (OutgoingMessage) async -> Void

    /// `params._meta.progressToken`, when the client asked for progress.
    var progressToken: RequestID? {
        params["_meta"]?["progressToken"].flatMap(RequestID.init(json:))
    }
}
