import Foundation
import RLMConfig

/// Where and how the run history is kept: `RLM_HISTORY`, `RLM_DATA_DIR`, `RLM_HISTORY_DAYS`, `RLM_HISTORY_CONTEXT`,
/// `RLM_DATABASE_URL`.
public struct HistorySettings: Sendable, Equatable {
    public var enabled: Bool
    /// The folder holding `history.sqlite`.
    public var directory: String
    /// Runs older than this many days are deleted when a store opens.
    public var retentionDays: Int
    /// Keeps each run's whole context (`RLM_HISTORY_CONTEXT=1`); otherwise its type, size and a short preview.
    public var keepsContext: Bool
    /// `RLM_DATABASE_URL`: when set, runs go to this PostgreSQL database instead of `history.sqlite`.
    public var databaseURL: Secret?

    public init(enabled: Bool = true, directory: String, retentionDays: Int = 30, keepsContext: Bool = false, databaseURL: Secret? = nil) {
        self.enabled = enabled
        self.databaseURL = databaseURL
        self.directory = directory
        self.retentionDays = retentionDays
        self.keepsContext = keepsContext
    }

    public init(config: RLMConfig, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(enabled: config.historyEnabled, directory: config.dataDirectory ?? Self.defaultDirectory(environment: environment),
                  retentionDays: config.historyDays, keepsContext: config.historyContext, databaseURL: config.databaseURL)
    }

    public var databasePath: String { (directory as NSString).appendingPathComponent("history.sqlite") }

    /// `$XDG_DATA_HOME/rlm-mcp`, else `~/.local/share/rlm-mcp` (the XDG base-directory default).
    public static func defaultDirectory(environment: [String: String]) -> String {
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") { return data + "/rlm-mcp" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/rlm-mcp"
    }
}
