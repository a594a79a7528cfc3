import Foundation

/// Why a Daytona call failed, worded so the user knows what to change. Never contains the API key.
public enum DaytonaError: Error, Equatable, CustomStringConvertible {
    /// 401/403: the key was refused or lacks a permission.
    case rejectedKey(status: Int, operation: String, message: String)
    /// Any other non-success answer.
    case http(status: Int, operation: String, message: String, code: String?)
    /// No answer at all (connection refused, reset, timed out) after the retries allowed for this call.
    case transport(operation: String, detail: String)
    /// The sandbox reached `error` / `build_failed` / `destroyed` instead of `started`.
    case sandboxFailed(id: String, state: String, reason: String)
    /// The sandbox did not reach `started` in time.
    case startTimeout(id: String, state: String, waited: Duration)
    /// A success answer larger than the caller allows (e.g. a download over its limit).
    case tooLarge(operation: String, limit: Int)
    /// A success answer whose body could not be read.
    case malformed(operation: String, detail: String)

    public var description: String {
        switch self {
        case let .rejectedKey(status, operation, message):
            "Daytona refused \(operation) (HTTP \(status): \(message)); check DAYTONA_API_KEY (it must be valid for DAYTONA_API_URL "
                + "and allow creating and deleting sandboxes)"
        case let .http(status, operation, message, code):
            "Daytona answered HTTP \(status) to \(operation)\(code.map { " [\($0)]" } ?? ""): \(message)"
        case let .transport(operation, detail):
            "could not reach Daytona for \(operation): \(detail); check DAYTONA_API_URL and the network"
        case let .sandboxFailed(id, state, reason):
            "Daytona sandbox \(id) is in state \(state): \(reason.isEmpty ? "no reason given" : reason)"
        case let .startTimeout(id, state, waited):
            "Daytona sandbox \(id) did not start within \(waited) (still \(state)); try again, or another DAYTONA_TARGET"
        case let .tooLarge(operation, limit):
            "Daytona's answer to \(operation) is larger than \(limit) bytes"
        case let .malformed(operation, detail):
            "Daytona's answer to \(operation) could not be read: \(detail)"
        }
    }

    /// The HTTP status, when the failure was an answer.
    public var status: Int? {
        switch self {
        case let .rejectedKey(status, _, _), let .http(status, _, _, _): status
        default: nil
        }
    }
}
