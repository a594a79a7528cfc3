import Foundation
import RLMCommon
import Telemetry

/// One running worker (one REPL namespace): frames out through its transport, frames in from the transport's stream,
/// one execution at a time, sub-calls answered through the execution's handler. Survives nothing: when the worker
/// dies, every waiter gets a clear error and the owner starts a new worker. The framing is the same for every backend;
/// only the `WorkerTransport` differs (local pipes, Daytona session input and log stream).
package actor WorkerChannel {
    private let transport: any WorkerTransport
    private var pending: PendingExec?
    private var readyWaiter: CheckedContinuation<Bool, Never>?
    private var isReady = false
    package private(set) var isAlive = true
    /// How the worker ended, once it did; the first reason stays.
    private var exit: WorkerExit?
    private var timedOut = false
    private var nextID = 0
    /// `local` or `daytona`: the `backend` label of the worker metrics.
    private let backend: String

    private struct PendingExec {
        let id: String
        let continuation: CheckedContinuation<WorkerFrame?, Never>
        let onSubCall: SubCallHandler
    }

    /// Starts the worker described by `argv` (the isolation wrapper included) and waits for its ready frame.
    static func start(argv: [String], environment: [String: String], cwd: String, cgroup: SandboxCgroup? = nil,
                      readyTimeout: Duration) async throws(SandboxError) -> WorkerChannel {
        let worker = try LocalWorkerTransport.spawn(argv: argv, environment: environment, cwd: cwd, cgroup: cgroup)
        return try await start(transport: worker.transport, frames: worker.frames, readyTimeout: readyTimeout,
                               hint: "check RLM_PYTHON and `rlm-mcp status`")
    }

    /// Wraps a started worker: `frames` are the frames it sends, ending with an `exited` frame when it is gone.
    package static func start(transport: any WorkerTransport, frames: AsyncStream<WorkerFrame>, readyTimeout: Duration,
                              hint: String, backend: String = "local") async throws(SandboxError) -> WorkerChannel {
        let channel = WorkerChannel(transport: transport, backend: backend)
        await channel.listen(to: frames)
        guard await channel.waitUntilReady(timeout: readyTimeout) else {
            let reason = await channel.exit?.description ?? "it did not answer within \(readyTimeout)"
            await channel.terminate()
            throw .workerFailed("the Python worker could not start (\(reason)); \(hint)")
        }
        return channel
    }

    private init(transport: any WorkerTransport, backend: String) {
        self.transport = transport
        self.backend = backend
        RLMMetrics.global.sandboxWorkers(backend: backend, delta: 1)
    }

    // MARK: - Reading

    private func listen(to frames: AsyncStream<WorkerFrame>) {
        Task { await self.dispatch(frames) }
    }

    private func dispatch(_ stream: AsyncStream<WorkerFrame>) async {
        for await frame in stream {
            switch frame {
            case .ready:
                isReady = true
                readyWaiter?.resume(returning: true)
                readyWaiter = nil
            case let .result(id, _), let .loaded(id, _):
                if let pending, id == pending.id {
                    self.pending = nil
                    pending.continuation.resume(returning: frame)
                }
            case let .request(id, call):
                answer(id: id, call: call)
            case let .exited(exit):
                died(exit)
            case .diagnostic:
                continue  // protocol_error and unknown frames are diagnostics only
            }
        }
    }

    private func died(_ exit: WorkerExit) {
        guard isAlive else { return }
        RLMMetrics.global.sandboxWorkers(backend: backend, delta: -1)
        isAlive = false
        self.exit = exit
        readyWaiter?.resume(returning: false)
        readyWaiter = nil
        pending?.continuation.resume(returning: nil)
        pending = nil
    }

    private func waitUntilReady(timeout: Duration) async -> Bool {
        if isReady { return true }
        guard isAlive else { return false }
        let watchdog = Watchdog(after: timeout) { [weak self] in Task { await self?.terminate() } }
        defer { watchdog.cancel() }
        return await withCheckedContinuation { readyWaiter = $0 }
    }

    // MARK: - Requests from the code

    private func answer(id: String?, call: SubCall?) {
        guard let requestID = id else { return }
        guard let pending, let call else {
            send(.reply(id: requestID, .failure("malformed request")))
            return
        }
        let handler = pending.onSubCall
        Task {
            let reply = await handler(call)
            await self.send(.reply(id: requestID, reply))
        }
    }

    // MARK: - Operations

    /// Runs one code block. A timeout returns a result that says so; a worker that dies throws
    /// `SandboxError.workerLost`; cancellation kills the worker. Either way the namespace is lost.
    package func execute(code: String, variables: [String: JSONValue]?, maxOutputChars: Int, timeout: Duration,
                         onSubCall: @escaping SubCallHandler) async throws -> ExecResult {
        let started = ContinuousClock.now
        defer { RLMMetrics.global.sandboxExec(backend: backend, duration: .now - started) }
        let answer = try await roundTrip(timeout: timeout, onSubCall: onSubCall) { id in
            .exec(id: id, code: code, variables: variables, maxOutputChars: maxOutputChars, timeoutSeconds: timeout.components.seconds)
        }
        guard case let .result(_, result) = answer else {
            if timedOut { return .lost(.timedOut(limit: timeout), durationMS: (ContinuousClock.now - started).milliseconds) }
            throw SandboxError.workerLost(WorkerFailure(exit ?? WorkerExit(.exited, "unknown cause")))
        }
        return result
    }

    /// Loads a file from the working directory into a namespace variable.
    package func loadContext(path: String, kind: String, name: String, timeout: Duration) async throws -> LoadedVariable {
        let answer = try await roundTrip(timeout: timeout, onSubCall: SubCall.unavailable) { id in
            .loadContext(id: id, path: path, kind: kind, name: name)
        }
        guard case let .loaded(_, outcome) = answer else {
            throw SandboxError.workerFailed("the Python worker died while loading \(path) (\(exit?.description ?? "unknown cause"))")
        }
        switch outcome {
        case let .success(loaded): return loaded
        case let .failure(error) where error.type == "FileNotFoundError": throw SandboxError.notFound(path)
        case let .failure(error): throw SandboxError.io("could not load \(path): \(error.type): \(error.message)")
        }
    }

    /// Sends the frame `make` builds for a fresh id and waits for the frame that answers it; nil when the worker died.
    private func roundTrip(timeout: Duration, onSubCall: @escaping SubCallHandler,
                           _ make: (String) -> HostFrame) async throws -> WorkerFrame? {
        guard isAlive, pending == nil else {
            throw SandboxError.workerFailed(isAlive ? "this namespace is already running code; wait for it to finish" : "the worker has exited")
        }
        nextID += 1
        let id = "e\(nextID)"
        let frame = make(id)
        let watchdog = Watchdog(after: timeout) { [weak self] in Task { await self?.timeOut() } }
        defer { watchdog.cancel() }
        let answer = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                pending = PendingExec(id: id, continuation: continuation, onSubCall: onSubCall)
                send(frame)
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
        died(WorkerExit(.stoppedByHost, "timed out"))
    }

    private func send(_ frame: HostFrame) {
        guard isAlive, let line = frame.line else { return }
        transport.send(line)
    }

    /// Stops the worker now. It counts as dead at once (a caller may reuse the namespace immediately); the transport
    /// reaps what is left.
    package func terminate() {
        guard isAlive else { return }
        transport.kill()
        died(WorkerExit(.stoppedByHost, "stopped by the host"))
    }
}
