import Foundation
import HTTPTypes
import Logging
import NIOCore
import WSClient

/// Follows a session command's output: the log stream (`logs?follow=true`, a websocket), reopened if it drops (it
/// replays from the start; what was delivered is skipped), else the plain log polled from the offset already read.
struct CommandLogFollower: Sendable {
    let client: DaytonaClient
    let toolbox: String
    let session: String
    let command: String

    /// Calls `onStdout` with each new piece of stdout, in order, until the command ends; returns how it ended.
    func run(onStdout: @escaping @Sendable (Data) -> Void) async -> String {
        let counter = ByteCounter()
        let stderrCounter = ByteCounter()
        let stderrTail = StderrTail()
        var outcome = await followStream(counter: counter, stderrCounter: stderrCounter, stderrTail: stderrTail, onStdout: onStdout)
        // A stream that dropped after connecting is opened again: it replays the log from the start, and what was
        // already delivered is skipped. Only when it cannot be opened (or keeps dropping) is the log polled.
        var reconnects = 0
        while outcome == .dropped, reconnects < 3, !Task.isCancelled {
            reconnects += 1
            client.logger.notice("Daytona log stream dropped; reconnecting", metadata: ["session": "\(session)", "attempt": "\(reconnects)"])
            outcome = await followStream(counter: counter, stderrCounter: stderrCounter, stderrTail: stderrTail, onStdout: onStdout)
        }
        if Task.isCancelled { return "stopped by the host" }
        if outcome != .ended {
            client.logger.notice("Daytona log stream unavailable; polling the log instead", metadata: ["session": "\(session)"])
            if let ended = await poll(counter: counter, onStdout: onStdout) { return ended + stderrTail.suffix }
        }
        let exit = try? await client.command(toolbox: toolbox, session: session, command: command)
        return "exited" + (exit?.exitCode.map { " with code \($0)" } ?? "") + stderrTail.suffix
    }

    enum StreamOutcome: Equatable {
        /// Closed normally: the command finished.
        case ended
        /// Connected, then cut without a normal close.
        case dropped
        /// Could not be opened at all.
        case unavailable
    }

    /// Streams the log from its start, passing on only the stdout past `counter` (and counting stderr likewise).
    private func followStream(counter: ByteCounter, stderrCounter: ByteCounter, stderrTail: StderrTail,
                              onStdout: @escaping @Sendable (Data) -> Void) async -> StreamOutcome {
        let base = toolbox.hasPrefix("https") ? "wss" + toolbox.dropFirst(5) : toolbox.hasPrefix("http") ? "ws" + toolbox.dropFirst(4) : Substring(toolbox)
        let url = "\(base)/process/session/\(DaytonaClient.pathComponent(session))/command/\(DaytonaClient.pathComponent(command))/logs?follow=true"
        var headers = HTTPFields()
        for (name, value) in client.commonHeaders {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let configuration = WebSocketClientConfiguration(maxFrameSize: 16 * 1024 * 1024, additionalHeaders: headers,
                                                         autoPing: .enabled(timePeriod: .seconds(30)))
        let connected = ByteCounter()
        let skipOut = counter.value
        let skipErr = stderrCounter.value
        do {
            let close = try await WebSocketClient.connect(url: url, configuration: configuration, logger: client.logger) { inbound, _, _ in
                connected.add(1)
                var demuxer = LogDemuxer()
                var seenOut = 0
                var seenErr = 0
                for try await message in inbound.messages(maxSize: 64 * 1024 * 1024) {
                    let bytes: [UInt8] = switch message {
                    case let .binary(buffer): Array(buffer.readableBytesView)
                    case let .text(text): Array(text.utf8)
                    }
                    let split = demuxer.append(bytes)
                    let freshOut = split.stdout.dropFirst(max(0, min(split.stdout.count, skipOut - seenOut)))
                    seenOut += split.stdout.count
                    if !freshOut.isEmpty {
                        counter.add(freshOut.count)
                        onStdout(Data(freshOut))
                    }
                    let freshErr = split.stderr.dropFirst(max(0, min(split.stderr.count, skipErr - seenErr)))
                    seenErr += split.stderr.count
                    if !freshErr.isEmpty {
                        stderrCounter.add(freshErr.count)
                        stderrTail.append(Array(freshErr))
                    }
                }
            }
            client.logger.debug("log stream closed", metadata: ["session": "\(session)", "close": "\(String(describing: close))"])
            return close?.closeCode == .normalClosure ? .ended : .dropped
        } catch {
            client.logger.debug("log stream failed", metadata: ["session": "\(session)", "error": "\(error)"])
            return connected.value > 0 ? .dropped : .unavailable
        }
    }

    /// Polls the whole log and passes on what lies past `counter`; nil when the command ended normally, else why not.
    private func poll(counter: ByteCounter, onStdout: @escaping @Sendable (Data) -> Void) async -> String? {
        var delay: Duration = .milliseconds(50)
        var idlePolls = 0
        while !Task.isCancelled {
            do {
                let logs = try await client.commandLogs(toolbox: toolbox, session: session, command: command)
                let bytes = Array(logs.stdout.utf8)
                if bytes.count > counter.value {
                    let fresh = bytes[counter.value...]
                    counter.add(fresh.count)
                    onStdout(Data(fresh))
                    delay = .milliseconds(50)
                    idlePolls = 0
                    continue
                }
                idlePolls += 1
                if idlePolls % 4 == 0, try await client.command(toolbox: toolbox, session: session, command: command).exitCode != nil {
                    return nil
                }
            } catch let error as DaytonaError where error.status == 404 {
                return "gone (its session was deleted)"
            } catch is CancellationError {
                return "stopped by the host"
            } catch {
                return "unreachable: \(error)"
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 1.5, .seconds(1))
        }
        return "stopped by the host"
    }
}

/// Bytes of stdout delivered so far (the polling fallback's offset).
final class ByteCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func add(_ n: Int) { lock.withLock { count += n } }
}

/// The last 2 KB of stderr, to explain a worker that died (e.g. `python3: command not found`).
final class StderrTail: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    func append(_ more: [UInt8]) {
        lock.withLock {
            bytes += more
            if bytes.count > 2048 { bytes.removeFirst(bytes.count - 2048) }
        }
    }

    var suffix: String {
        let text = lock.withLock { String(decoding: bytes, as: UTF8.self) }.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : ": \(text)"
    }
}
