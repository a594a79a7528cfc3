import Foundation
import MCP

/// Splits one stdio stream between the eras: 2026-07-28 requests (and cancellations of them) are served here, every
/// other line goes to swift-sdk's handshake-era server exactly as before.
actor ModernStdioRouter {
    private let dispatcher: ModernDispatcher
    private let send: @Sendable (Data) async -> Void
    /// Modern requests in flight, by id key, so that `notifications/cancelled` can stop them.
    private var inFlight: [String: (work: Task<Void, Never>, gate: NotificationGate)] = [:]

    init(dispatcher: ModernDispatcher, send: @escaping @Sendable (Data) async -> Void) {
        self.dispatcher = dispatcher
        self.send = send
    }

    /// Takes the line when it belongs to the 2026-07-28 era; false hands it to the handshake-era server.
    func take(_ line: Data) -> Bool {
        guard ModernProtocol.mayBeModern(line), let message = ModernProtocol.object(line) else { return false }
        if case .string(ProgressNotification.name)? = message["method"] { return false }
        if case .string("notifications/cancelled")? = message["method"], message["id"] == nil {
            guard let requestID = message["params"]?.objectValue?["requestId"], let key = ModernProtocol.key(requestID),
                  let entry = inFlight.removeValue(forKey: key)
            else { return false }
            // The spec: stop the work and send nothing more for it, not even a response.
            entry.work.cancel()
            Task { await entry.gate.close(final: nil) }
            return true
        }
        guard ModernProtocol.isModernRequest(message) else { return false }
        serve(message)
        return true
    }

    private func serve(_ message: [String: Value]) {
        let dispatcher = dispatcher
        let send = send
        let request: ModernRequest
        do {
            request = try dispatcher.parse(message)
        } catch {
            let id = message["id"]
            Task { await send(ModernProtocol.response(id: id, error: error)) }
            return
        }
        guard let key = ModernProtocol.key(request.id) else { return }
        let gate = NotificationGate(send: send)
        let work = Task { [weak self] in
            let response = await dispatcher.handle(request, owner: "", emit: { await gate.send($0) })
            // Progress and log messages for a request stop with its response (or its cancellation).
            await gate.close(final: response)
            await self?.finished(key)
        }
        inFlight[key] = (work, gate)
    }

    private func finished(_ key: String) { inFlight[key] = nil }
}

/// Delivers one request's notifications until its response went out; nothing after, as the spec requires.
actor NotificationGate {
    private let deliver: @Sendable (Data) async -> Void
    private var open = true

    init(send: @escaping @Sendable (Data) async -> Void) { deliver = send }

    func send(_ data: Data) async {
        guard open else { return }
        await deliver(data)
    }

    /// Sends the final message (if any) and shuts the gate.
    func close(final: Data?) async {
        guard open else { return }
        open = false
        if let final { await deliver(final) }
    }
}
