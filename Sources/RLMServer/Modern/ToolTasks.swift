import Foundation
import RLMCommon

/// Tool calls running as `io.modelcontextprotocol/tasks` tasks: the call is answered at once with a task handle, the
/// work goes on here, and `tasks/get` reports its progress (as `statusMessage`) and final result; `tasks/cancel`
/// cancels the work.
public actor ToolTasks {
    static let ttlMilliseconds = 3_600_000
    static let pollIntervalMilliseconds = 250

    private struct Entry {
        let owner: String
        var status: String
        var statusMessage: String?
        let createdAt: Date
        var lastUpdatedAt: Date
        var result: JSONValue?
        var error: JSONValue?
        var work: Task<Void, Never>?

        var isTerminal: Bool { ["completed", "failed", "cancelled"].contains(status) }
    }

    private var entries: [String: Entry] = [:]

    public init() {}

    /// Starts `work` as a task owned by `owner` and returns the `CreateTaskResult` fields.
    func start(owner: String, work: @escaping @Sendable (ProgressReporter) async throws -> ToolResult) -> JSONValue {
        purgeExpired()
        let id = "task_" + SessionIDs.make()
        let now = Date()
        entries[id] = Entry(owner: owner, status: "working", statusMessage: "started", createdAt: now, lastUpdatedAt: now)
        let progress = ProgressReporter(token: .string(id)) { [weak self] _, update in
            let text = update.message ?? "progress \(update.progress)" + (update.total.map { " of \($0)" } ?? "")
            await self?.setMessage(id, text)
        }
        entries[id]?.work = Task { [weak self] in
            do {
                let result = try await work(progress)
                await self?.finish(id, status: "completed", result: result.json.withResultType(), error: nil,
                                   message: result.isError ? "the tool reported an error" : "completed")
            } catch is CancellationError {
                await self?.finish(id, status: "cancelled", result: nil, error: nil, message: "cancelled")
            } catch let error as RPCError {
                await self?.finish(id, status: "failed", result: nil, error: ["code": .int(error.code), "message": .string(error.message)],
                                   message: "failed: \(error.message)")
            } catch {
                await self?.finish(id, status: "failed", result: nil, error: ["code": -32603, "message": .string("\(error)")],
                                   message: "failed: \(error)")
            }
        }
        return describe(id, entries[id]!, detailed: false)
    }

    /// The task's current state (`tasks/get`).
    func get(_ id: String, owner: String) throws(RPCError) -> JSONValue {
        purgeExpired()
        return describe(id, try entry(id, owner: owner), detailed: true)
    }

    /// Asks the task to stop (`tasks/cancel`); the task reads `cancelled` from now on unless it had already ended.
    func cancel(_ id: String, owner: String) throws(RPCError) {
        var entry = try entry(id, owner: owner)
        guard !entry.isTerminal else { return }
        entry.work?.cancel()
        entry.status = "cancelled"
        entry.statusMessage = "cancelled by the client"
        entry.lastUpdatedAt = Date()
        entries[id] = entry
    }

    /// `tasks/update`: these tasks never ask for input, so there is nothing to deliver; the task must exist.
    func update(_ id: String, owner: String) throws(RPCError) {
        _ = try entry(id, owner: owner)
    }

    /// Cancels every task still running (shutdown).
    public func cancelAll() {
        for entry in entries.values { entry.work?.cancel() }
    }

    private func entry(_ id: String, owner: String) throws(RPCError) -> Entry {
        // A task of another token reads as unknown: its existence is not the caller's business.
        guard let entry = entries[id], entry.owner == owner else {
            throw .invalidParams("Failed to retrieve task: task \(id) not found (unknown, expired after \(Self.ttlMilliseconds / 1000) s, or the server restarted)")
        }
        return entry
    }

    private func setMessage(_ id: String, _ message: String) {
        guard var entry = entries[id], !entry.isTerminal else { return }
        entry.statusMessage = message
        entry.lastUpdatedAt = Date()
        entries[id] = entry
    }

    private func finish(_ id: String, status: String, result: JSONValue?, error: JSONValue?, message: String) {
        guard var entry = entries[id], !entry.isTerminal else { return }
        entry.status = status
        entry.result = result
        entry.error = error
        entry.statusMessage = message
        entry.lastUpdatedAt = Date()
        entry.work = nil
        entries[id] = entry
    }

    private func purgeExpired() {
        let cutoff = Date().addingTimeInterval(-Double(Self.ttlMilliseconds) / 1000)
        for (id, entry) in entries where entry.createdAt < cutoff {
            entry.work?.cancel()
            entries[id] = nil
        }
    }

    private func describe(_ id: String, _ entry: Entry, detailed: Bool) -> JSONValue {
        var fields: [String: JSONValue] = [
            "taskId": .string(id),
            "status": .string(entry.status),
            "createdAt": .string(entry.createdAt.ISO8601Format()),
            "lastUpdatedAt": .string(entry.lastUpdatedAt.ISO8601Format()),
            "ttlMs": .int(Self.ttlMilliseconds),
            "pollIntervalMs": .int(Self.pollIntervalMilliseconds),
        ]
        if let message = entry.statusMessage { fields["statusMessage"] = .string(message) }
        if detailed {
            if entry.status == "completed", let result = entry.result { fields["result"] = result }
            if entry.status == "failed", let error = entry.error { fields["error"] = error }
        }
        return .object(fields)
    }
}
