import Logging
import RLMConfig

enum LogSetup {
    /// Sends every log line to stderr: in stdio mode stdout carries nothing but the MCP protocol.
    static func bootstrapStandardError(level: RLMConfig.LogLevel) -> Logger {
        let swiftLogLevel = Logger.Level(rawValue: level.rawValue) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = swiftLogLevel
            return handler
        }
        return Logger(label: "rlm-mcp")
    }
}
