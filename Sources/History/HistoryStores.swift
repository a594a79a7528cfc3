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

    /// Task state for the Tasks extension: shared through PostgreSQL when the run store is PostgreSQL, else in memory.
    public static func taskState(sharing store: (any RunStore)?) -> any TaskStateStore {
        if let postgres = store as? PostgresRunStore { return PostgresTaskStateStore(sharing: postgres) }
        return InMemoryTaskStateStore()
    }
}
