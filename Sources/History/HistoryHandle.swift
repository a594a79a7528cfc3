import Foundation
import Logging

/// The run store as it opens in the background: a server answers its first requests while the SQLite file migrates or
/// PostgreSQL connects, and whatever needs the store (the recorder's writer, the MCP resources, the viewer, shared
/// Tasks state) awaits `store()`; `state` tells without waiting (for `rlm_status`).
public final class HistoryHandle: Sendable {
    /// Where the open stands.
    public enum State: Sendable, Equatable {
        case opening
        case open
        /// The open failed; the error says what to fix. Nothing is recorded until the process restarts.
        case failed(HistoryError)

        /// `opening`, `open` or `failed`, as `rlm_status` shows it.
        public var name: String {
            switch self {
            case .opening: "opening"
            case .open: "open"
            case .failed: "failed"
            }
        }

        /// What went wrong and what to fix, when the open failed.
        public var problem: String? {
            guard case let .failed(error) = self else { return nil }
            return "runs are not recorded: \(error); restart the server once it is fixed"
        }
    }

    /// Which store the settings name, known before it opens.
    public enum Backend: String, Sendable {
        case sqlite, postgres

        init(_ settings: HistorySettings) { self = settings.databaseURL == nil ? .sqlite : .postgres }
    }

    public let backend: Backend
    /// How long a request waits for a store still opening before it is told so: a PostgreSQL server that does not
    /// answer takes its 10 s connect timeout to be given up on, and a client must not hang that long.
    public static let patience: Duration = .seconds(5)
    private let opening: Task<Result<any RunStore, HistoryError>, Never>
    private let outcome: OpenOutcome

    /// Starts opening at once, off the caller's task; `onFailure` hears an open that failed (worded for a log).
    public init(backend: Backend, onFailure: @escaping @Sendable (HistoryError) -> Void = { _ in },
                open: @escaping @Sendable () async throws(HistoryError) -> any RunStore) {
        self.backend = backend
        let outcome = OpenOutcome()
        self.outcome = outcome
        // Detached: opening SQLite blocks its thread on disk I/O, which must not delay the task answering `initialize`.
        opening = Task.detached(priority: .utility) {
            let result: Result<any RunStore, HistoryError>
            do throws(HistoryError) {
                result = .success(try await open())
            } catch {
                onFailure(error)
                result = .failure(error)
            }
            outcome.settle(result)
            return result
        }
    }

    /// A handle over a store that is open already (tests, `rlm-mcp runs`).
    public convenience init(opened store: any RunStore) {
        self.init(backend: Backend(store.settings)) { store }
    }

    /// The history `settings` name, opening in the background.
    public convenience init(settings: HistorySettings, logger: Logger, onFailure: @escaping @Sendable (HistoryError) -> Void = { _ in }) {
        self.init(backend: Backend(settings), onFailure: onFailure) { () async throws(HistoryError) in
            try await HistoryStores.open(settings, logger: logger)
        }
    }

    /// The open store, however long the open takes (the recorder's writer, shutdown); the open's error when it failed.
    public func store() async throws(HistoryError) -> any RunStore {
        try await opening.value.get()
    }

    /// The open store for a request: waits at most `limit` for an open in progress, then throws `stillOpening`
    /// (the open goes on); an open that failed throws its error at once.
    public func store(waitingAtMost limit: Duration) async throws(HistoryError) -> any RunStore {
        let result = await outcome.wait(atMost: limit) { .stillOpening(backend: self.backend.rawValue, waited: limit) }
        return try result.get()
    }

    /// The open store when the open succeeded, nil when it failed (shutdown, optional readers).
    public func storeIfOpened() async -> (any RunStore)? {
        try? await opening.value.get()
    }

    /// Where the open stands now; never waits.
    public var state: State { outcome.state }

    /// Cancels an open still in progress: a process that is ending does not wait out the connect timeout of a database
    /// that does not answer. Whatever waits for the store then gets the open's error.
    public func abandonOpen() {
        if state == .opening { opening.cancel() }
    }

    /// Shuts the store down once it has opened (waits for an open in progress; nothing to do after a failure).
    public func shutdown() async {
        await storeIfOpened()?.shutdown()
    }
}
