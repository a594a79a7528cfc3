import Foundation
import RLMEngine

/// Where recorded runs live: the embedded SQLite file (`RunHistory`) or a PostgreSQL database shared by replicas
/// (`PostgresRunStore`). The recorder writes through it; the CLI, the viewer and the MCP resources read through it.
public protocol RunStore: Sendable {
    var settings: HistorySettings { get }
    /// Writes `events` in one transaction; returns what could not be written (each event stands alone).
    func write(_ events: [RunEvent]) async -> [String]
    func list(_ filter: RunFilter) async throws -> [RunSummary]
    func detail(_ runID: String) async throws -> RunDetail
    /// The run's summary and its steps after the first `afterStep` (`runNotFound` for an unknown run): what the
    /// viewer's live stream polls, reading only the steps it has not sent.
    func progress(_ runID: String, afterStep: Int) async throws -> RunProgress
    /// Deletes a run with its steps, sub-calls and child runs; false when there was no such run.
    func delete(_ runID: String) async throws -> Bool
    /// Deletes every run started before `date`; returns how many.
    func delete(startedBefore date: Date) async throws -> Int
    /// Releases connections; reads and writes after it fail.
    func shutdown() async
    /// Where MCP Tasks' state lives when this store is shared between server replicas (their `tasks/get` and
    /// `tasks/cancel` may reach any replica); nil keeps it in this process.
    func sharedTaskState() -> (any TaskStateStore)?
}

extension RunStore {
    /// A store of this process's own keeps Tasks' state in memory.
    public func sharedTaskState() -> (any TaskStateStore)? { nil }

    /// The most recent runs a caller may see: those recorded for one of `visibility`'s workspaces or owner
    /// (what the MCP resources list).
    public func recentRuns(visibleTo visibility: RunVisibility, limit: Int = 50) async throws -> [RunSummary] {
        guard !visibility.isEmpty else { return [] }
        return try await list(RunFilter(limit: limit, visibleTo: visibility))
    }

    /// One run, when `visibility` may see it; nil for an unknown run and for another caller's alike, so a caller
    /// learns nothing about runs that are not its own.
    public func detail(_ runID: String, visibleTo visibility: RunVisibility) async throws -> RunDetail? {
        guard !visibility.isEmpty, try await !list(RunFilter(limit: 1, runID: runID, visibleTo: visibility)).isEmpty else { return nil }
        return try await detail(runID)
    }
}

/// Whose runs a caller may see: runs of its workspaces (fingerprints such as `ws#…`), recorded under its owner
/// fingerprint (a bearer token's or a session's), or — for a caller the server cannot tell apart from others (no
/// token, no session) — every run recorded without an owner. Empty sees nothing.
public struct RunVisibility: Sendable, Equatable {
    public var workspaces: [String]
    public var owner: String?
    /// Runs recorded without an owner (no bearer token), whatever their workspace.
    public var unowned: Bool

    public init(workspaces: [String] = [], owner: String? = nil, unowned: Bool = false) {
        self.workspaces = workspaces
        self.owner = owner
        self.unowned = unowned
    }

    public var isEmpty: Bool { workspaces.isEmpty && owner == nil && !unowned }
}
