import Foundation

/// The run history could not be opened or read; each case says what to fix.
public enum HistoryError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case disabled
    case runNotFound(String)
    case invalidAge(String)
    /// `RLM_DATABASE_URL` is malformed; `problem` never repeats the URL (it may hold a password).
    case invalidDatabaseURL(problem: String)
    /// The PostgreSQL server refused or failed; `server` is host:port/database, without credentials.
    case database(server: String, reason: String)
    /// A request waited `waited` for the history to open and it has not yet; the open goes on in the background.
    case stillOpening(backend: String, waited: Duration)

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
        case let .invalidDatabaseURL(problem):
            "RLM_DATABASE_URL: \(problem); expected postgres://user:password@host:5432/database?sslmode=disable|prefer|require"
        case let .database(server, reason):
            "PostgreSQL at \(server): \(reason); check RLM_DATABASE_URL and that the server is up"
        case let .stillOpening(backend, waited):
            "the run history (\(backend)) is still opening after \(waited.components.seconds) s; retry shortly"
                + (backend == "postgres" ? " (if it stays so, check RLM_DATABASE_URL and that the server is up; the server log says when it gives up)" : "")
        }
    }
}
