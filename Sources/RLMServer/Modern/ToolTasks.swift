import Foundation
import History
import RLMCommon

/// Tool calls running as `io.modelcontextprotocol/tasks` tasks: the call is answered at once with a task handle, the
/// work goes on here, and `tasks/get` reports its progress (as `statusMessage`) and final result; `tasks/cancel`
/// cancels the work. The state lives in a `TaskStateStore`: in memory for one process, or in the PostgreSQL database
/// replicas share, so any replica answers `tasks/get` and `tasks/cancel` for a task another one runs.
public actor ToolTasks {
    static let ttlMilliseconds = 3_600_000
    static let pollIntervalMilliseconds = 250
    /// How often the replica running a task looks for a cancel request stored by another replica.
    static let cancelCheckInterval: Duration = .milliseconds(250)

    private let store: any TaskStateStore
    /// The work this process runs, by task id, with when the task expires (another replica's tasks are not here).
    private var running: [String: (work: Task<Void, Never>, expires: Date)] = [:]

    public init(store: any TaskStateStore = InMemoryTaskStateStore()) {
        self.store = store
    }

    /// Starts `work` as a task owned by `owner` and returns the `CreateTaskResult` fields once the task is stored.
    func start(owner: String, work: @escaping @Sendable (ProgressReporter) async throws -> ToolResult) async throws(RPCError) -> JSONValue {
        await forgetExpired()
        let state = TaskState(taskID: "task_" + SessionIDs.make(), owner: owner, status: .working, statusMessage: "started",
                              ttlMS: Self.ttlMilliseconds)
        let id = state.taskID
        do {
            try await store.create(state)
        } catch {
            throw .internalError("the task could not be stored (\(error)); call the tool without the Tasks extension, or retry")
        }
        let store = store
        let progress = ProgressReporter(token: .string(id)) { _, update in
            let text = update.message ?? "progress \(update.progress)" + (update.total.map { " of \($0)" } ?? "")
            _ = try? await store.update(id, status: .working, message: text, result: nil)
        }
        let job = Task { [weak self] in
            let outcome = await Self.run(id, store: store, work: work, progress: progress)
            _ = try? await store.update(id, status: outcome.status, message: outcome.message, result: outcome.result, error: outcome.error)
            await self?.ended(id)
        }
        running[id] = (job, state.createdAt.addingTimeInterval(Double(Self.ttlMilliseconds) / 1000))
        return Self.describe(state, detailed: false)
    }

    /// The task's current state (`tasks/get`), from whichever replica runs it.
    func get(_ id: String, owner: String) async throws(RPCError) -> JSONValue {
        Self.describe(try await task(id, owner: owner), detailed: true)
    }

    /// Asks the task to stop (`tasks/cancel`): it reads `cancelled` from now on unless it had already ended; the work
    /// stops at once when it runs here, else within `cancelCheckInterval` on the replica that runs it.
    func cancel(_ id: String, owner: String) async throws(RPCError) {
        let task = try await task(id, owner: owner)
        guard !task.status.hasEnded else { return }
        do {
            _ = try await store.requestCancel(id)
            _ = try await store.update(id, status: .cancelled, message: "cancelled by the client", result: nil)
        } catch {
            throw .internalError("the cancel request could not be stored (\(error)); retry tasks/cancel")
        }
        running[id]?.work.cancel()
    }

    /// `tasks/update`: these tasks never ask for input, so there is nothing to deliver; the task must exist.
    func update(_ id: String, owner: String) async throws(RPCError) {
        _ = try await task(id, owner: owner)
    }

    /// Cancels every task this process runs and waits until each has stored its end (shutdown), so other replicas
    /// read `cancelled` rather than a task that stays `working` forever.
    public func cancelAll() async {
        let tasks = running.values.map(\.work)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func task(_ id: String, owner: String) async throws(RPCError) -> TaskState {
        let found: TaskState?
        do {
            found = try await store.get(id)
        } catch {
            throw .internalError("the task store could not be read (\(error)); retry")
        }
        // A task of another token reads as unknown: its existence is not the caller's business.
        guard let found, found.owner == owner, !found.hasExpired(at: Date()) else {
            throw .invalidParams("Failed to retrieve task: task \(id) not found (unknown, expired after \(Self.ttlMilliseconds / 1000) s, or the server restarted)")
        }
        return found
    }

    private func ended(_ id: String) {
        running[id] = nil
    }

    /// Drops expired tasks from the store and stops their work here.
    private func forgetExpired() async {
        let now = Date()
        _ = try? await store.deleteExpired(now: now)
        for (_, task) in running where task.expires < now {
            task.work.cancel()
        }
    }

    /// How a task's work ended, as the store keeps it.
    private struct Outcome {
        var status: TaskState.Status
        var message: String
        var result: JSONValue?
        var error: JSONValue?
    }

    /// Runs `work` next to a watcher that cancels it when a cancel request shows up in the store (sent to another
    /// replica); whichever ends first ends the other.
    private static func run(_ id: String, store: any TaskStateStore, work: @escaping @Sendable (ProgressReporter) async throws -> ToolResult,
                            progress: ProgressReporter) async -> Outcome {
        do {
            let result = try await withThrowingTaskGroup(of: ToolResult?.self) { group in
                group.addTask { try await work(progress) }
                group.addTask {
                    while true {
                        try await Task.sleep(for: cancelCheckInterval)
                        if (try? await store.get(id))?.cancelRequested == true { throw CancellationError() }
                    }
                }
                defer { group.cancelAll() }
                guard let result = try await group.next() ?? nil else { throw CancellationError() }
                return result
            }
            return Outcome(status: .completed, message: result.isError ? "the tool reported an error" : "completed",
                           result: result.json.withResultType())
        } catch is CancellationError {
            return Outcome(status: .cancelled, message: "cancelled")
        } catch let error as RPCError {
            return Outcome(status: .failed, message: "failed: \(error.message)", error: ["code": .int(error.code), "message": .string(error.message)])
        } catch {
            return Outcome(status: .failed, message: "failed: \(error)", error: ["code": -32603, "message": .string("\(error)")])
        }
    }

    private static func describe(_ task: TaskState, detailed: Bool) -> JSONValue {
        var fields: [String: JSONValue] = [
            "taskId": .string(task.taskID),
            "status": .string(task.status.rawValue),
            "createdAt": .string(task.createdAt.ISO8601Format()),
            "lastUpdatedAt": .string(task.updatedAt.ISO8601Format()),
            "ttlMs": .int(task.ttlMS ?? ttlMilliseconds),
            "pollIntervalMs": .int(pollIntervalMilliseconds),
        ]
        if let message = task.statusMessage { fields["statusMessage"] = .string(message) }
        if detailed {
            if task.status == .completed, let result = task.result { fields["result"] = result }
            if task.status == .failed, let error = task.error { fields["error"] = error }
        }
        return .object(fields)
    }
}
