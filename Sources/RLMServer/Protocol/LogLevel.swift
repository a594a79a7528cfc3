import Logging

/// The syslog severities MCP uses for `logging/setLevel` and `notifications/message`, debug lowest.
public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    case debug, info, notice, warning, error, critical, alert, emergency

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The swift-log level a tool's log line is written at in the server's own log.
    var serverLevel: Logger.Level {
        switch self {
        case .debug: .debug
        case .info, .notice: .info
        case .warning: .warning
        default: .error
        }
    }
}
