import Logging
import Synchronization

/// Collects the messages logged at warning level and above, to check what a component warned about.
final class CapturedLog: Sendable {
    private let messages = Mutex<[String]>([])

    var logger: Logger { Logger(label: "test") { _ in Handler(sink: self) } }

    var warnings: [String] { messages.withLock { $0 } }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            guard event.level >= .warning else { return }
            sink.messages.withLock { $0.append("\(event.message)") }
        }
    }
}
