/// Why a configuration could not be loaded, worded so the user knows what to change.
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case invalidChoice(variable: String, accepted: [String], got: String)
    case invalidNumber(variable: String, range: ClosedRange<Int>, got: String)
    case invalidURL(variable: String, got: String)
    case invalidValue(variable: String, expected: String, got: String)
    case unreadableFile(path: String, reason: String)
    case malformedFile(path: String, line: Int, reason: String)
    case unsafeBind(host: String)

    public var description: String {
        switch self {
        case let .invalidChoice(variable, accepted, got):
            return "\(variable) must be one of \(accepted.joined(separator: ", ")) (got \"\(got)\")"
        case let .invalidNumber(variable, range, got):
            return "\(variable) must be an integer from \(range.lowerBound) to \(range.upperBound) (got \"\(got)\")"
        case let .invalidURL(variable, got):
            return "\(variable) must be an absolute http:// or https:// URL (got \"\(got)\")"
        case let .invalidValue(variable, expected, got):
            return "\(variable) must be \(expected) (got \"\(got)\")"
        case let .unreadableFile(path, reason):
            return "cannot read \(path): \(reason)"
        case let .malformedFile(path, line, reason):
            return "\(path):\(line): \(reason)"
        case let .unsafeBind(host):
            return "refusing to listen on \(host) without authentication: set MCP_AUTH_TOKEN, "
                + "bind to 127.0.0.1, or pass --allow-unauthenticated if something in front of the server authenticates"
        }
    }
}
