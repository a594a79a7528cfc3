import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RLMCommon

/// The 2026-07-28 face of `/mcp`: picks out modern requests by their shape (per-request `_meta`, `server/discover`,
/// or a modern `MCP-Protocol-Version` without a session), checks the mirrored headers against the body, and answers
/// each POST on its own — JSON for quick methods, an SSE stream scoped to the request for `tools/call` so progress and
/// log messages travel with it and closing it cancels the call. Everything else returns nil and goes to the
/// handshake-era session map unchanged.
struct ModernHTTPEndpoint: Sendable {
    let dispatcher: ProtocolDispatcher

    /// How often an idle `tools/call` stream gets an SSE comment, so that a client that went away is noticed (and its
    /// call cancelled) even when the tool reports no progress.
    static let keepAliveInterval = Duration.milliseconds(250)
    let keepAlive = KeepAliveTicker(interval: Self.keepAliveInterval)

    init(dispatcher: ProtocolDispatcher) { self.dispatcher = dispatcher }

    func respond(to request: Request, message: JSONRPCMessage?) async -> Response? {
        let sessionID = request.headers[HTTPField.Name("Mcp-Session-Id")!]
        let versionHeader = request.headers[HTTPField.Name("MCP-Protocol-Version")!]
        let modernHeader = versionHeader.map { !HandshakeSession.versions.contains($0) } ?? false
        switch request.method {
        case .get, .delete:
            // Sessions and the GET stream belong to the handshake era; without a session there is nothing to serve.
            guard sessionID == nil else { return nil }
            return Self.json(status: 405, OutgoingMessage.response(id: nil, error: .invalidRequest(
                "Method Not Allowed: MCP \(ModernProtocol.version) uses POST only (no GET stream, no sessions to DELETE); "
                + "handshake-era clients open a session with an initialize POST first")).data, extra: [.allow: "POST"])
        case .post:
            break
        default:
            return nil
        }
        switch message {
        case .request(let call)? where ModernProtocol.isModernRequest(method: call.method, params: call.params) || (sessionID == nil && modernHeader):
            return await serve(call, headers: request.headers)
        case .notification? where sessionID == nil && modernHeader:
            // 2026-07-28 defines no client notifications over HTTP (closing a stream is the cancellation): accept, ignore.
            return Response(status: .accepted)
        default:
            return nil
        }
    }

    private func serve(_ request: JSONRPCRequest, headers: HTTPFields) async -> Response {
        let modern: ModernRequest
        do {
            try Self.checkHeaders(headers, against: request)
            modern = try ModernRequest.parse(request, tools: dispatcher.runtime.registry)
        } catch {
            return Self.json(status: error.httpStatus, OutgoingMessage.response(id: request.id, error: error).data)
        }
        let owner = dispatcher.runtime.workspaceOwner(authorization: headers[.authorization])
        let call = { (emit: @escaping @Sendable (OutgoingMessage) async -> Void) in
            MethodCall(id: request.id, method: request.method, params: request.params, era: .modern, runtime: dispatcher.runtime,
                       session: nil, modern: modern, owner: owner, emit: emit)
        }
        guard request.method == ToolsCall.name, !ToolsCall.runsAsTask(call { _ in }) else {
            let reply = await dispatcher.respond(call { _ in })
            return Self.json(status: reply?.status ?? 200, reply?.message.data ?? Data())
        }
        return stream(call)
    }

    /// Answers a tool call with an SSE stream: its notifications, then its response; the stream ending early cancels it.
    /// The call starts on the handler's thread (`Task.immediate`): a quick one is over before the handler returns, and its
    /// events go out as one complete body, with no hand-off to another thread and back.
    private func stream(_ call: (@escaping @Sendable (OutgoingMessage) async -> Void) -> MethodCall) -> Response {
        let events = CallEvents()
        let gate = NotificationGate { message in events.emit(ByteBuffer(bytes: SSE.event(message.data))) }
        let dispatcher = dispatcher
        let request = call { await gate.send($0) }
        let work = Task.immediate {
            let response = await dispatcher.respond(request)
            await gate.close(final: response?.message)
            events.finish()
        }
        let keepAlive = keepAlive
        let body = events.body { continuation in
            let ticket = keepAlive.register(continuation)
            continuation.onTermination = { reason in
                keepAlive.unregister(ticket)
                // The client closed the stream before the response: that is how 2026-07-28 HTTP clients cancel.
                if case .cancelled = reason { work.cancel() }
            }
        }
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache, no-transform", HTTPField.Name("X-Accel-Buffering")!: "no"]
        switch body {
        case .complete(let buffer): return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: buffer))
        case .stream(let stream): return Response(status: .ok, headers: headers, body: ResponseBody(asyncSequence: stream))
        }
    }

    /// The streamable-HTTP binding mirrors body fields into headers; a mismatch (or a missing header) is -32020, so that
    /// nothing routing on the headers can be told one thing while the server does another.
    static func checkHeaders(_ headers: HTTPFields, against request: JSONRPCRequest) throws(RPCError) {
        let meta = request.params["_meta"]?.objectValue
        // Without a version string in the body there is nothing to compare: the body check names the missing field.
        if let bodyVersion = meta?[ModernProtocol.Meta.protocolVersion]?.stringValue {
            guard let version = headers[HTTPField.Name("MCP-Protocol-Version")!] else {
                throw .headerMismatch("the MCP-Protocol-Version header is required (it must repeat params._meta[\"\(ModernProtocol.Meta.protocolVersion)\"])")
            }
            guard version == bodyVersion else {
                throw .headerMismatch("MCP-Protocol-Version header value '\(version)' does not match body value '\(bodyVersion)'")
            }
        }
        let method = request.method
        guard let methodHeader = headers[HTTPField.Name("Mcp-Method")!] else {
            throw .headerMismatch("the Mcp-Method header is required (it must repeat the request's method, \"\(method)\")")
        }
        guard methodHeader == method else {
            throw .headerMismatch("Mcp-Method header value '\(methodHeader)' does not match body value '\(method)'")
        }
        // Only for methods served here: for the others, "method not found" is the more useful answer.
        guard MethodTable.method(named: method, era: .modern) != nil, let field = ModernProtocol.nameBearing[method] else { return }
        let bodyName = request.params[field]?.stringValue ?? ""
        guard let rawName = headers[HTTPField.Name("Mcp-Name")!] else {
            throw .headerMismatch("the Mcp-Name header is required for \(method) (it must repeat params.\(field), \"\(bodyName)\")")
        }
        guard let name = decodeHeaderValue(rawName) else {
            throw .headerMismatch("Mcp-Name header value is not valid: a =?base64?…?= value must hold base64-encoded UTF-8")
        }
        guard name == bodyName else {
            throw .headerMismatch("Mcp-Name header value '\(name)' does not match body value '\(bodyName)'")
        }
    }

    /// A header value, decoded from the `=?base64?…?=` form when it uses it.
    static func decodeHeaderValue(_ raw: String) -> String? {
        guard raw.hasPrefix("=?base64?"), raw.hasSuffix("?="), raw.count >= 11 else { return raw }
        let encoded = raw.dropFirst("=?base64?".count).dropLast(2)
        guard let data = Data(base64Encoded: String(encoded)) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    private static func json(status: Int, _ body: Data, extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
