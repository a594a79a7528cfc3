import Foundation

/// The workers of one sandbox, whatever backend starts them: one per named namespace, and a warm spare so that a fresh
/// namespace costs a hand-over rather than an interpreter start.
package actor WorkerPool {
    package typealias Start = @Sendable () async throws -> WorkerChannel

    private let start: Start
    private var named: [String: WorkerChannel] = [:]
    private var spare: Task<WorkerChannel, Error>?
    private var closed = false

    /// `start` launches one worker (and says in its error why it could not).
    package init(start: @escaping Start) { self.start = start }

    /// Runs `request` in its namespace: a fresh namespace's worker is stopped afterwards, and a named namespace whose
    /// worker died (timeout, crash, cancellation) starts afresh on its next use.
    package func execute(_ request: ExecRequest) async throws -> ExecResult {
        let variables = try request.variablesObject()
        let worker: WorkerChannel
        switch request.namespace {
        case .fresh: worker = try await take()
        case let .named(name): worker = try await self.worker(named: name)
        }
        defer {
            if request.namespace == .fresh { Task { await worker.terminate() } }
        }
        do {
            let result = try await worker.execute(code: request.code, variables: variables, maxOutputChars: request.maxOutputChars,
                                                  timeout: request.timeout, onSubCall: request.onSubCall)
            await forgetIfDead(worker, in: request.namespace)
            return result
        } catch {
            await forgetIfDead(worker, in: request.namespace)
            throw error
        }
    }

    /// The live worker of a named namespace, starting one when it has none.
    package func worker(named name: String) async throws -> WorkerChannel {
        if let existing = named[name], await existing.isAlive { return existing }
        let worker = try await take()
        named[name] = worker
        return worker
    }

    /// Starts the warm spare before any call (a sandbox made ahead of need) and waits for it; false when it could not
    /// start (the first call then starts one itself and reports why).
    @discardableResult
    package func warm() async -> Bool {
        prepareSpare()
        guard let spare, let worker = try? await spare.value else { return false }
        return await worker.isAlive
    }

    /// Forgets a namespace's variables by stopping its worker.
    package func reset(_ name: String) async {
        await named.removeValue(forKey: name)?.terminate()
    }

    package var namespaces: [String] { named.keys.sorted() }

    /// Live workers, the warm spare included.
    package var workerCount: Int {
        get async {
            var live = 0
            for worker in named.values where await worker.isAlive { live += 1 }
            return live + (spare == nil ? 0 : 1)
        }
    }

    /// Stops every worker; the pool can start new ones afterwards (the backend replaced what they ran on).
    package func clear() async {
        for worker in named.values { await worker.terminate() }
        named.removeAll()
        spare?.cancel()
        spare = nil
    }

    /// Stops every worker for good.
    package func shutdown() async {
        closed = true
        let pending = spare
        spare = nil
        pending?.cancel()
        if let pending, let worker = try? await pending.value { await worker.terminate() }
        for worker in named.values { await worker.terminate() }
        named.removeAll()
    }

    private func take() async throws -> WorkerChannel {
        guard !closed else { throw SandboxError.workerFailed("the sandbox was shut down") }
        if let spare {
            self.spare = nil
            if let worker = try? await spare.value, await worker.isAlive {
                prepareSpare()
                return worker
            }
        }
        let worker = try await start()
        prepareSpare()
        return worker
    }

    /// Starts the next worker in the background while the current call runs.
    private func prepareSpare() {
        guard spare == nil, !closed else { return }
        let start = start
        spare = Task { try await start() }
    }

    private func forgetIfDead(_ worker: WorkerChannel, in namespace: ExecRequest.Namespace) async {
        if case let .named(name) = namespace, !(await worker.isAlive), named[name] === worker {
            named[name] = nil
        }
    }
}

extension ExecRequest {
    /// `variablesJSON` parsed, as the worker frame carries it; nil when there are none.
    func variablesObject() throws(SandboxError) -> Any? {
        guard let data = variablesJSON else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: data), object is [String: Any] else {
            throw .io("variables must be a JSON object")
        }
        return object
    }
}
