import Foundation
import JSONRPCWire
import Logging
import RLMCommon

/// One client connection (a stdio stream, a streamable-HTTP session, a legacy SSE stream): takes its parsed messages,
/// decides each one's era, runs requests through the dispatcher and keeps the ones in flight, so that
/// `notifications/cancelled` or the end of the connection stops them.
actor Connection {
    nonisolated let session: HandshakeSession
    private let runtime: ServerRuntime
    private let dispatcher: ProtocolDispatcher
    private let deliver: @Sendable (OutgoingMessage) async -> Void
    /// `stop` cancels the request's task (its own, or the HTTP handler's that answers it in place).
    private var inFlight: [RequestID: (stop: @Sendable () -> Void, gate: NotificationGate, serial: Int)] = [:]
    /// Tells apart two requests that reused an id (allowed once the first was answered; a client may race its bookkeeping).
    private var nextSerial = 0
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    private var closed = false
    /// False on the legacy HTTP+SSE transport, which the 2026-07-28 spec does not carry: everything there is handshake era.
    private let servesModern: Bool

    private init(runtime: ServerRuntime, session: HandshakeSession, servesModern: Bool, send: @escaping @Sendable (OutgoingMessage) async -> Void) {
        self.runtime = runtime
        self.servesModern = servesModern
        self.session = session
        dispatcher = ProtocolDispatcher(runtime: runtime)
        deliver = send
    }

    /// Opens the connection and its handshake-era session. `owner` is the workspace owner fingerprint of the client's
    /// bearer token ("" without one).
    static func open(runtime: ServerRuntime, id: String, owner: String = "", servesModern: Bool = true,
                     send: @escaping @Sendable (OutgoingMessage) async -> Void) async -> Connection {
        let workspace = await runtime.workspaces.create(owner: owner, pinned: true)
        await runtime.activity.sessionOpened()
        TelemetryHooks.sessionOpened(era: .handshake) // TELEMETRY HOOK
        return Connection(runtime: runtime, session: HandshakeSession(id: id, owner: owner, workspace: workspace), servesModern: servesModern, send: send)
    }

    /// Parses raw bytes (stdio) and handles them; a malformed message is answered with its JSON-RPC error, or dropped
    /// with a debug log when it was a notification.
    func receive(_ data: Data) {
        switch JSONRPCMessage.parse(data) {
        case .success(let message): receive(message)
        case .failure(let rejection): reject(rejection)
        }
    }

    func reject(_ rejection: MessageRejection) {
        guard rejection.answerable else {
            runtime.logger.debug("dropped a malformed notification", metadata: ["reason": "\(rejection.message)"])
            return
        }
        let reply = OutgoingMessage.response(id: rejection.id, error: RPCError(code: rejection.code, message: rejection.message))
        let deliver = deliver
        Task { await deliver(reply) }
    }

    func receive(_ message: JSONRPCMessage) {
        guard !closed else { return }
        switch message {
        case .request(let request): start(request)
        case .notification(let notification):
            guard let method = MethodTable.notification(named: notification.method) else { return }
            Task { await method.receive(notification, on: self) }
        case .response: break
        }
    }

    private func start(_ request: JSONRPCRequest) {
        let call: MethodCall
        let gate = NotificationGate(send: deliver)
        do {
            call = try makeCall(request, gate: gate)
        } catch {
            let reply = OutgoingMessage.response(id: request.id, error: error)
            Task { await gate.close(final: reply) }
            return
        }
        let dispatcher = dispatcher
        nextSerial += 1
        let serial = nextSerial
        let work = Task { [weak self] in
            let reply = await dispatcher.respond(call)
            await gate.close(final: reply?.message)
            _ = await self?.finished(request.id, serial: serial)
        }
        inFlight[request.id] = ({ work.cancel() }, gate, serial)
    }

    /// Answers `request` in the same exchange (a streamable-HTTP POST answered as JSON) and returns its response, or nil
    /// when it was cancelled. The call starts on the caller's thread (`Task.immediate`): a quick method is answered with no
    /// hand-off to another thread and back. It is tracked like any request, so `notifications/cancelled` and `close()`
    /// stop it; its notifications go out through the connection until it is answered.
    nonisolated func answer(_ request: JSONRPCRequest) async -> OutgoingMessage? {
        let gate = NotificationGate(send: deliver)
        let call: MethodCall
        do {
            call = try makeCall(request, gate: gate)
        } catch {
            return .response(id: request.id, error: error)
        }
        let dispatcher = dispatcher
        let work = Task.immediate { await dispatcher.respond(call) }
        guard let serial = await track(request.id, stop: { work.cancel() }, gate: gate) else {
            work.cancel()
            return nil
        }
        let reply = await work.value
        await gate.close(final: nil)
        // Cancelled meanwhile: `cancel` took it off the table, and a cancelled request gets no response.
        return await finished(request.id, serial: serial) ? reply?.message : nil
    }

    private func track(_ id: RequestID, stop: @escaping @Sendable () -> Void, gate: NotificationGate) -> Int? {
        guard !closed else { return nil }
        nextSerial += 1
        inFlight[id] = (stop, gate, nextSerial)
        return nextSerial
    }

    /// The era is read off the message: a 2026-07-28 request names its version in `_meta`; anything else belongs to the
    /// handshake-era session.
    private nonisolated func makeCall(_ request: JSONRPCRequest, gate: NotificationGate) throws(RPCError) -> MethodCall {
        let emit: @Sendable (OutgoingMessage) async -> Void = { await gate.send($0) }
        guard servesModern, ModernProtocol.isModernRequest(method: request.method, params: request.params) else {
            return MethodCall(id: request.id, method: request.method, params: request.params, era: .handshake, runtime: runtime,
                              session: session, modern: nil, owner: session.owner, emit: emit)
        }
        let modern = try ModernRequest.parse(request, tools: runtime.registry)
        // Stateless: 2026-07-28 requests on stdio share no session state with the handshake era.
        return MethodCall(id: request.id, method: request.method, params: request.params, era: .modern, runtime: runtime,
                          session: nil, modern: modern, owner: "", emit: emit)
    }

    /// Stops a request in flight and sends nothing more for it, not even a response (what `notifications/cancelled` asks).
    func cancel(_ id: RequestID) {
        guard let entry = inFlight.removeValue(forKey: id) else { return }
        entry.stop()
        Task { await entry.gate.close(final: nil) }
        resumeIdleWaiters()
    }

    /// Takes the request off the table; false when it was no longer there (cancelled, or the connection closed).
    private func finished(_ id: RequestID, serial: Int) -> Bool {
        guard inFlight[id]?.serial == serial else { return false }
        inFlight[id] = nil
        resumeIdleWaiters()
        return true
    }

    var requestsInFlight: Int { inFlight.count }

    /// Returns once no request is in flight.
    func waitUntilIdle() async {
        guard !inFlight.isEmpty else { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func resumeIdleWaiters() {
        guard inFlight.isEmpty else { return }
        for waiter in idleWaiters { waiter.resume() }
        idleWaiters.removeAll()
    }

    /// Ends the connection: cancels its requests in flight and deletes the session's sandbox.
    func close() async {
        guard !closed else { return }
        closed = true
        for entry in inFlight.values {
            entry.stop()
            await entry.gate.close(final: nil)
        }
        inFlight.removeAll()
        resumeIdleWaiters()
        await runtime.workspaces.close(session.workspace)
        await runtime.activity.sessionClosed()
        TelemetryHooks.sessionClosed(era: .handshake) // TELEMETRY HOOK
    }
}

/// Delivers one request's notifications until its response went out; nothing after, as the spec requires.
actor NotificationGate {
    private let deliver: @Sendable (OutgoingMessage) async -> Void
    private var open = true

    init(send: @escaping @Sendable (OutgoingMessage) async -> Void) { deliver = send }

    func send(_ message: OutgoingMessage) async {
        guard open else { return }
        await deliver(message)
    }

    /// Sends the final message (if any) and shuts the gate.
    func close(final: OutgoingMessage?) async {
        guard open else { return }
        open = false
        if let final { await deliver(final) }
    }
}
