import Foundation

/// One running worker (one REPL namespace): frames out through its transport, frames in from the transport's stream,
/// one execution at a time, sub-calls answered through the execution's handler. Survives nothing: when the worker
/// dies, every waiter gets a clear error and the owner starts a new worker. The framing is the same for every backend;
/// only the `WorkerTransport` differs (local pipes, Daytona session input and log stream).
package actor WorkerChannel {
    private let transport: any WorkerTransport
    private var pending: PendingExec?
    private var readyWaiter: CheckedContinuation<WorkerFrame?, Never>?
    private var ready: WorkerFrame?
    package private(set) var isAlive = true
    private var exitDescription: String?
    private var timedOut = false
    private var nextID = 0

    private struct PendingExec {
        let id: String
        let continuation: CheckedContinuation<WorkerFrame?, Never>
        let onSubCall: SubCallHandler
    }

    /// Starts the worker described by `argv` (the isolation wrapper included) and waits for its ready frame.
    static func start(argv: [String], environment: [String: String], cwd: String, cgroup: SandboxCgroup? = nil,
                      readyTimeout: Duration) async throws(SandboxError) -> WorkerChannel {
        let (transport, frames) = try LocalWorkerTransport.spawn(argv: argv, environment: environment, cwd: cwd, cgroup: cgroup)
        return try await start(transport: transport, frames: frames, readyTimeout: readyTimeout,
                               hint: "check RLM_PYTHON and `rlm-mcp status`")
    }

    /// Wraps a started worker: `frames` are the frames it sends, ending with an `exited` frame when it is gone.
    package static func start(transport: any WorkerTransport, frames: AsyncStream<WorkerFrame>, readyTimeout: Duration,
                              hint: String) async throws(SandboxError) -> WorkerChannel {
        let channel = WorkerChannel(transport: transport)
        await channel.listen(to: frames)
        guard let ready = await channel.waitUntilReady(timeout: readyTimeout), ready.event == "ready" else {
            let reason = await channel.exitDescription ?? "it did not answer within \(readyTimeout)"
            await channel.terminate()
            throw .workerFailed("the Python worker could not start (\(reason)); \(hint)")
        }
        return channel
    }

    private init(transport: any WorkerTransport) {
        self.transport = transport
    }

    // MARK: - Reading

    private func listen(to frames: AsyncStream<WorkerFrame>) {
        Task { await self.dispatch(frames) }
    }

    private func dispatch(_ stream: AsyncStream<WorkerFrame>) async {
        for await frame in stream {
            switch frame.event {
            case "ready":
                ready = frame
                readyWaiter?.resume(returning: frame)
                readyWaiter = nil
            case "result", "loaded", "pong":
                if let pending, frame.id == pending.id {
                    self.pending = nil
                    pending.continuation.resume(returning: frame)
                }
            case "request":
                answer(frame)
            case "exited":
                died(frame.string("description") ?? "exited")
            default:
                continue  // protocol_error and unknown frames are diagnostics only
            }
        }
    }

    private func died(_ description: String) {
        isAlive = false
        exitDescription = description
        readyWaiter?.resume(returning: nil)
        readyWaiter = nil
        pending?.continuation.resume(returning: nil)
        pending = nil
    }

    private func waitUntilReady(timeout: Duration) async -> WorkerFrame? {
        if let ready { return ready }
        guard isAlive else { return nil }
        let watchdog = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.terminate()
        }
        defer { watchdog.cancel() }
        return await withCheckedContinuation { readyWaiter = $0 }
    }

    // MARK: - Requests from the code

    private func answer(_ frame: WorkerFrame) {
        guard let pending, let requestID = frame.id, let call = frame.subCall else {
            if let requestID = frame.id { send(["op": "reply", "id": requestID, "error": "malformed request"]) }
            return
        }
        let handler = pending.onSubCall
        Task {
            let reply = await handler(call)
            await self.reply(to: requestID, with: reply)
        }
    }

    private func reply(to requestID: String, with reply: SubCallReply) {
        switch reply {
        case let .text(text): send(["op": "reply", "id": requestID, "result": text])
        case let .texts(texts): send(["op": "reply", "id": requestID, "results": texts])
        case let .failure(message): send(["op": "reply", "id": requestID, "error": message])
        }
    }

    // MARK: - Operations

    /// Runs one code block. A timeout or cancellation kills the worker: its namespace is lost.
    package func execute(code: String, variables: Any?, maxOutputChars: Int, timeout: Duration, onSubCall: @escaping SubCallHandler) async throws -> ExecResult {
        var frame: [String: Any] = ["op": "exec", "code": code, "max_output_chars": maxOutputChars, "timeout_s": timeout.components.seconds]
        if let variables { frame["variables"] = variables }
        let started = ContinuousClock.now
        guard let result = try await roundTrip(frame, timeout: timeout, onSubCall: onSubCall) else {
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            if timedOut {
                return ExecResult(stdout: "", stderr: "", error: .init(
                    type: "Timeout",
                    message: "the code ran longer than \(timeout.components.seconds) s and was stopped; this namespace's variables were lost",
                    traceback: ""), submittedJSON: nil, truncated: false, durationMS: ms)
            }
            throw SandboxError.workerFailed(
                "the Python worker died while running the code (\(exitDescription ?? "unknown cause")); "
                    + "a memory, CPU or process limit may have been hit. This namespace's variables were lost; the next call starts a fresh one")
        }
        return result.execResult
    }

    /// Loads a file from the working directory into a namespace variable.
    package func loadContext(path: String, kind: String, name: String, timeout: Duration) async throws -> LoadedVariable {
        let frame: [String: Any] = ["op": "load_context", "path": path, "kind": kind, "name": name]
        guard let loaded = try await roundTrip(frame, timeout: timeout, onSubCall: SubCall.unavailable) else {
            throw SandboxError.workerFailed("the Python worker died while loading \(path) (\(exitDescription ?? "unknown cause"))")
        }
        if let error = loaded.fields["error"] as? [String: Any] {
            if error["type"] as? String == "FileNotFoundError" { throw SandboxError.notFound(path) }
            throw SandboxError.io("could not load \(path): \(error["type"] ?? "Error"): \(error["message"] ?? "")")
        }
        return LoadedVariable(type: loaded.string("type") ?? "?", length: loaded.fields["length"] as? Int ?? 0)
    }

    /// Sends `frame` with a fresh id and waits for the frame that answers it; nil when the worker died.
    private func roundTrip(_ frame: [String: Any], timeout: Duration, onSubCall: @escaping SubCallHandler) async throws -> WorkerFrame? {
        guard isAlive, pending == nil else {
            throw SandboxError.workerFailed(isAlive ? "this namespace is already running code; wait for it to finish" : "the worker has exited")
        }
        nextID += 1
        let id = "e\(nextID)"
        var framed = frame
        framed["id"] = id
        let watchdog = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.timeOut()
        }
        defer { watchdog.cancel() }
        let answer = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                pending = PendingExec(id: id, continuation: continuation, onSubCall: onSubCall)
                send(framed)
            }
        } onCancel: {
            Task { await self.terminate() }
        }
        try Task.checkCancellation()
        return answer
    }

    /// The server enforces the timeout itself, whatever the worker does: the waiter is answered now, not when the
    /// transport notices the worker is gone.
    private func timeOut() {
        guard isAlive else { return }
        timedOut = true
        transport.kill()
        died("timed out")
    }

    private func send(_ frame: [String: Any]) {
        guard isAlive, var data = try? JSONSerialization.data(withJSONObject: frame) else { return }
        data.append(UInt8(ascii: "\n"))
        transport.send(data)
    }

    /// Stops the worker now. It counts as dead at once (a caller may reuse the namespace immediately); the transport
    /// reaps what is left.
    package func terminate() {
        guard isAlive else { return }
        transport.kill()
        died("stopped by the host")
    }
}

/// A frame the worker sent.
package struct WorkerFrame: @unchecked Sendable {
    package let event: String
    /// The parsed JSON object; immutable after parsing.
    package let fields: [String: Any]

    package init(event: String, fields: [String: Any]) {
        self.event = event
        self.fields = fields
    }

    /// The frame a transport yields last, when the worker is gone.
    package static func exited(_ description: String) -> WorkerFrame {
        WorkerFrame(event: "exited", fields: ["description": description])
    }

    package init?(json: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any], let event = object["ev"] as? String else { return nil }
        self.init(event: event, fields: object)
    }

    var id: String? { fields["id"] as? String }
    func string(_ key: String) -> String? { fields[key] as? String }

    var subCall: SubCall? {
        let model = fields["model"] as? String
        switch fields["kind"] as? String {
        case "llm_query": return (fields["prompt"] as? String).map { .llmQuery(prompt: $0, model: model) }
        case "llm_query_batched": return (fields["prompts"] as? [String]).map { .llmQueryBatched(prompts: $0, model: model) }
        case "rlm_query": return (fields["task"] as? String).map { .rlmQuery(task: $0, context: fields["context"] as? String) }
        default: return nil
        }
    }

    var execResult: ExecResult {
        let failure = (fields["error"] as? [String: Any]).map {
            ExecResult.Failure(type: $0["type"] as? String ?? "Error", message: $0["message"] as? String ?? "", traceback: $0["traceback"] as? String ?? "")
        }
        let submitted = (fields["submitted"] as? [String: Any]).flatMap { try? JSONSerialization.data(withJSONObject: $0) }
        return ExecResult(
            stdout: string("stdout") ?? "",
            stderr: string("stderr") ?? "",
            error: failure,
            submittedJSON: submitted,
            truncated: fields["truncated"] as? Bool ?? false,
            durationMS: (fields["duration_ms"] as? NSNumber)?.doubleValue ?? 0
        )
    }
}
