import Foundation

/// The workers of one sandbox, whatever backend starts them: one per named namespace, and a warm spare so that a fresh
/// namespace costs a hand-over rather than an interpreter start. Live workers are capped per pool (`maxNamed` named
/// namespaces) and, through a shared `WorkerQuota`, per server; idle namespaces are stopped least recently used first
/// to make room.
package actor WorkerPool {
    package typealias Start = @Sendable () async throws -> WorkerChannel

    private struct Named {
        let worker: WorkerChannel
        let permit: WorkerQuota.Permit?
        var lastUsed: ContinuousClock.Instant
        var running = 0
    }

    /// A worker `take` handed out, with the quota permit that holds its slot until it stops (nil without a quota).
    private struct Taken {
        let worker: WorkerChannel
        let permit: WorkerQuota.Permit?
    }

    private struct Spare {
        let task: Task<WorkerChannel, Error>
        let permit: WorkerQuota.Permit?
    }

    private let start: Start
    private let quota: WorkerQuota?
    private let maxNamed: Int
    /// False for a sandbox that serves one run and goes: a spare would only be started to be stopped.
    private let keepsSpare: Bool
    private var named: [String: Named] = [:]
    private var spare: Spare?
    private var closed = false

    /// `start` launches one worker (and says in its error why it could not).
    package init(start: @escaping Start, quota: WorkerQuota? = nil, maxNamed: Int = .max, keepsSpare: Bool = true) {
        self.start = start
        self.quota = quota
        self.maxNamed = max(1, maxNamed)
        self.keepsSpare = keepsSpare
        quota?.register(self)
    }

    deinit {
        quota?.unregister(self)
    }

    /// Runs `request` in its namespace: a fresh namespace's worker is stopped afterwards, and a named namespace whose
    /// worker died (timeout, crash, cancellation) starts afresh on its next use.
    package func execute(_ request: ExecRequest) async throws -> ExecResult {
        let variables = request.variables
        switch request.namespace {
        case .fresh:
            let taken = try await take()
            defer { Task { await taken.worker.terminate(); _ = taken.permit } }
            return try await taken.worker.execute(code: request.code, variables: variables, maxOutputChars: request.maxOutputChars,
                                            timeout: request.timeout, onSubCall: request.onSubCall)
        case let .named(name):
            let worker = try await self.worker(named: name)
            named[name]?.running += 1
            defer { finished(name, worker) }
            return try await worker.execute(code: request.code, variables: variables, maxOutputChars: request.maxOutputChars,
                                            timeout: request.timeout, onSubCall: request.onSubCall)
        }
    }

    /// The live worker of a named namespace, starting one when it has none.
    package func worker(named name: String) async throws -> WorkerChannel {
        if let existing = named[name], await existing.worker.isAlive {
            named[name]?.lastUsed = .now
            return existing.worker
        }
        named[name] = nil
        if named.count >= maxNamed, !(await evictOwnLeastRecentlyUsed()) {
            throw SandboxError.workerFailed("this workspace already runs \(maxNamed) REPL namespaces and all are busy "
                + "(RLM_MAX_WORKSPACE_WORKERS); wait for one to finish, or reset one with sandbox_exec_stateful reset=true")
        }
        let taken = try await take()
        named[name] = Named(worker: taken.worker, permit: taken.permit, lastUsed: .now)
        return taken.worker
    }

    /// Starts the warm spare before any call (a sandbox made ahead of need) and waits for it; false when it could not
    /// start (the first call then starts one itself and reports why).
    @discardableResult
    package func warm() async -> Bool {
        prepareSpare()
        guard let spare, let worker = try? await spare.task.value else { return false }
        return await worker.isAlive
    }

    /// Forgets a namespace's variables by stopping its worker.
    package func reset(_ name: String) async {
        await named.removeValue(forKey: name)?.worker.terminate()
    }

    package var namespaces: [String] { named.keys.sorted() }

    /// Live workers, the warm spare included.
    package var workerCount: Int {
        get async {
            var live = 0
            for entry in named.values where await entry.worker.isAlive { live += 1 }
            return live + (spare == nil ? 0 : 1)
        }
    }

    /// Stops every worker; the pool can start new ones afterwards (the backend replaced what they ran on).
    package func clear() async {
        for entry in named.values { await entry.worker.terminate() }
        named.removeAll()
        spare?.task.cancel()
        spare = nil
    }

    /// Stops every worker for good.
    package func shutdown() async {
        closed = true
        let pending = spare
        spare = nil
        pending?.task.cancel()
        if let pending, let worker = try? await pending.task.value { await worker.terminate() }
        for entry in named.values { await entry.worker.terminate() }
        named.removeAll()
    }

    // MARK: - Eviction (called by this pool and by the shared quota)

    /// The idle named namespace used longest ago. Namespaces of RLM runs (`rlm:…`) are never offered: a run owns its
    /// namespace until it ends and resets it.
    func leastRecentlyUsedIdle() -> IdleNamespace? {
        named.filter { $0.value.running == 0 && !$0.key.contains(":") }
            .min { $0.value.lastUsed < $1.value.lastUsed }
            .map { IdleNamespace(pool: self, name: $0.key, lastUsed: $0.value.lastUsed) }
    }

    /// Stops an idle namespace's worker, unless it was used again since it was chosen.
    func evict(_ idle: IdleNamespace) async -> Bool {
        guard let entry = named[idle.name], entry.running == 0, entry.lastUsed == idle.lastUsed else { return false }
        named[idle.name] = nil
        await entry.worker.terminate()
        return true
    }

    /// Gives up the warm spare (its permit with it); false when there is none.
    func dropSpare() async -> Bool {
        guard let dropped = spare else { return false }
        spare = nil
        dropped.task.cancel()
        if let worker = try? await dropped.task.value { await worker.terminate() }
        return true
    }

    private func evictOwnLeastRecentlyUsed() async -> Bool {
        guard let candidate = leastRecentlyUsedIdle() else { return false }
        return await evict(candidate)
    }

    // MARK: - Starting workers

    private func finished(_ name: String, _ worker: WorkerChannel) {
        guard var entry = named[name], entry.worker === worker else { return }
        entry.running -= 1
        entry.lastUsed = .now
        named[name] = entry
        Task { await self.forgetIfDead(name, worker) }
    }

    private func take() async throws -> Taken {
        guard !closed else { throw SandboxError.workerFailed("the sandbox was shut down") }
        if let spare {
            self.spare = nil
            if let worker = try? await spare.task.value, await worker.isAlive {
                prepareSpare()
                return Taken(worker: worker, permit: spare.permit)
            }
        }
        let permit = try await reservePermit()
        let worker = try await start()
        prepareSpare()
        return Taken(worker: worker, permit: permit)
    }

    private func reservePermit() async throws -> WorkerQuota.Permit? {
        guard let quota else { return nil }
        guard let permit = await quota.permit() else {
            throw SandboxError.workerFailed("all \(quota.capacity) workers this server allows are busy (RLM_MAX_WORKERS); "
                + "try again when a call finishes")
        }
        return permit
    }

    /// Starts the next worker in the background while the current call runs, when the quota has room for it without
    /// stopping anyone's namespace.
    private func prepareSpare() {
        guard keepsSpare, spare == nil, !closed else { return }
        var permit: WorkerQuota.Permit?
        if let quota {
            guard let granted = quota.tryPermit() else { return }
            permit = granted
        }
        let start = start
        spare = Spare(task: Task { try await start() }, permit: permit)
    }

    private func forgetIfDead(_ name: String, _ worker: WorkerChannel) async {
        if !(await worker.isAlive), named[name]?.worker === worker {
            named[name] = nil
        }
    }
}
