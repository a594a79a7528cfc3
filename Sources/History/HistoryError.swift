import Foundation

/// The run history could not be opened or read; each case says what to fix.
public enum HistoryError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case disabled
    case runNotFound(String)
    case invalidAge(String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason):
            "cannot open the run history at \(path): \(reason); set RLM_DATA_DIR to a writable folder, or RLM_HISTORY=off"
        case .disabled:
            "the run history is off (RLM_HISTORY=off); set RLM_HISTORY=on to record runs"
        case let .runNotFound(id):
            "no run \(id) in the history; `rlm-mcp runs list` shows the recorded runs"
        case let .invalidAge(text):
            "--older-than \(text): expected a number of days, hours or minutes such as 7d, 12h or 30m"
        }
    }
}
