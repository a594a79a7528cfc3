import Foundation
import Logging

/// Opens the store the settings name: PostgreSQL when `RLM_DATABASE_URL` is set, else the SQLite file.
public enum HistoryStores {
    public static func open(_ settings: HistorySettings, logger: Logger = Logger(label: "rlm-mcp.history")) async throws(HistoryError) -> any RunStore {
        if settings.databaseURL != nil {
            return try await PostgresRunStore.open(settings: settings, logger: logger)
        }
        return try RunHistory(settings: settings)
    }

    /// Task state for the Tasks extension: shared through PostgreSQL when the history is PostgreSQL (once it has
    /// opened), else in memory, without waiting for the SQLite file.
    public static func taskState(sharing history: HistoryHandle?) -> any TaskStateStore {
        guard let history, history.backend == .postgres else { return InMemoryTaskStateStore() }
        return DeferredTaskStateStore(handle: history)
    }
}
