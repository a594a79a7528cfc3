import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One running worker process (one REPL namespace): frames out on its input pipe, frames in from its output pipe,
/// one execution at a time, sub-calls answered through the execution's handler. Survives nothing: when the process
/// dies, every waiter gets a clear error and the owner starts a new worker.
actor WorkerChannel {
    let process: ChildProcess
    private let toWorker: Int32
    private var frames: AsyncStream<WorkerFrame>.Iterator?
    private var pending: PendingExec?
    private var readyWaiter: CheckedContinuation<WorkerFrame?, Never>?
    private var ready: WorkerFrame?
    private(set) var isAlive = true
    private var exitDescription: String?
    private var timedOut = false
    private var nextID = 0

    private struct PendingExec {
        let id: String
        let continuation: CheckedContinuation<WorkerFrame?, Never>
        let onSubCall: SubCallHandler
    }

    /// Starts the worker described by `argv` (the isolation wrapper included) and waits for its ready frame.
    static func start(argv: [String], environment: [String: String], cwd: String, readyTimeout: Duration) async throws(SandboxError) -> WorkerChannel {
        let input = try Pipe()
        let output = try Pipe()
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(argv, environment: environment, fds: [nil, nil, nil, input.readEnd, output.writeEnd], cwd: cwd)
        } catch {
            close(input.readEnd); close(input.writeEnd); close(output.readEnd); close(output.writeEnd)
            throw error
        }
        close(input.readEnd)
        close(output.writeEnd)
        let channel = WorkerChannel(process: process, toWorker: input.writeEnd)
        await channel.listen(to: output.readEnd)
        guard let ready = await channel.waitUntilReady(timeout: readyTimeout), ready.event == "ready" else {
            let reason = await channel.exitDescription ?? "it did not answer within \(readyTimeout)"
            await channel.terminate()
            throw .workerFailed("the Python worker could not start (\(reason)); check RLM_PYTHON and `rlm-mcp status`")
        }
        return channel
    }

    private init(process: ChildProcess, toWorker: Int32) {
        self.process = process
        self.toWorker = toWorker
    }

    deinit {
        close(toWorker)
    }

    // MARK: - Reading

    private func listen(to fd: Int32) {
        let (stream, continuation) = AsyncStream<WorkerFrame>.makeStream()
        let process = self.process
        let reader = Thread {
            FrameReader.run(fd: fd, into: continuation)
            let exit = process.waitForExit()
            continuation.yield(WorkerFrame(event: "exited", fields: ["description": exit.description]))
            continuation.finish()
            close(fd)
        }
        reader.name = "rlm-mcp.worker.\(process.pid)"
        reader.start()
        Task { await self.dispatch(stream) }
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
    func execute(code: String, variables: Any?, maxOutputChars: Int, timeout: Duration, onSubCall: @escaping SubCallHandler) async throws -> ExecResult {
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
    func loadContext(path: String, kind: String, name: String, timeout: Duration) async throws -> LoadedVariable {
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

    private func timeOut() {
        timedOut = true
        process.killGroup()
    }

    private func send(_ frame: [String: Any]) {
        guard isAlive, var data = try? JSONSerialization.data(withJSONObject: frame) else { return }
        data.append(UInt8(ascii: "\n"))
        if !writeAll(toWorker, data) { process.killGroup() }
    }

    /// Stops the worker now. It counts as dead at once (a caller may reuse the namespace immediately); the process is
    /// reaped by its reader thread.
    func terminate() {
        guard isAlive else { return }
        process.killGroup()
        died("stopped by the host")
    }
}

/// A frame the worker sent.
struct WorkerFrame: @unchecked Sendable {
    let event: String
    /// The parsed JSON object; immutable after parsing.
    let fields: [String: Any]

    init(event: String, fields: [String: Any]) {
        self.event = event
        self.fields = fields
    }

    init?(json: Data) {
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

/// Reads newline-delimited frames from a descriptor on a dedicated thread.
enum FrameReader {
    static func run(fd: Int32, into continuation: AsyncStream<WorkerFrame>.Continuation) {
        var splitter = LineSplitter()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            for line in buffer.withUnsafeBytes({ splitter.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }) {
                if let frame = WorkerFrame(json: line) { continuation.yield(frame) }
            }
        }
    }
}
