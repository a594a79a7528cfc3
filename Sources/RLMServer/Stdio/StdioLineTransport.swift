import Foundation
import JSONRPCWire
import Logging
import MCP
import Sandboxes

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Newline-delimited JSON-RPC over stdin/stdout with a blocking reader thread.
///
/// Why not the SDK's `StdioTransport`: it puts stdin in non-blocking mode and sleeps 10 ms whenever no byte is waiting,
/// so every request that arrives at an idle server waits ~5 ms on average and the idle process wakes 100 times a second.
/// A thread parked in `read(2)` answers at once and costs nothing while idle.
public actor StdioLineTransport: Transport {
    public nonisolated let logger: Logger
    private let input: Int32
    private let output: Int32
    private let messages: AsyncThrowingStream<Data, Error>
    private let continuation: AsyncThrowingStream<Data, Error>.Continuation
    private var started = false
    /// Ids of requests read but not yet answered, so end of input can wait for their answers.
    private var unanswered: Set<String> = []
    private var drained: CheckedContinuation<Void, Never>?
    /// Takes the lines another layer serves (2026-07-28 requests); set before `connect()`.
    private var divert: (@Sendable (Data) async -> Bool)?

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO, logger: Logger) {
        self.input = input
        self.output = output
        self.logger = logger
        (messages, continuation) = AsyncThrowingStream.makeStream()
    }

    /// Lines for which `divert` returns true are not passed to the SDK's server.
    public func setDivert(_ divert: @escaping @Sendable (Data) async -> Bool) {
        self.divert = divert
    }

    public func connect() async throws {
        guard !started else { return }
        started = true
        let (lines, lineSink) = AsyncStream<Data>.makeStream()
        let reader = Thread { [input, logger] in
            Self.readLines(from: input, into: lineSink, logger: logger)
        }
        reader.name = "rlm-mcp.stdin"
        reader.start()
        Task { await self.forward(lines) }
    }

    /// Passes input lines to the server; at end of input waits (briefly) for the answers still owed, so that
    /// `rlm-mcp < requests.jsonl` prints every response, while a client that quit does not keep work running.
    private func forward(_ lines: AsyncStream<Data>) async {
        for await line in lines {
            switch MessageCheck.check(line) {
            case .failure(let rejection):
                // Answered (or, for a notification, dropped) here: a malformed line must never reach a decoder that could
                // stall the session on it.
                if rejection.answerable {
                    try? await send(rejection.reply)
                } else {
                    logger.debug("dropped a malformed notification", metadata: ["reason": "\(rejection.message)"])
                }
                continue
            case .success(.request(let id, _)): unanswered.insert(id.key)
            case .success(.notification(_, let cancels?)): unanswered.remove(cancels.key)
            case .success: break
            }
            if let divert, await divert(line) { continue }
            continuation.yield(line)
        }
        if !unanswered.isEmpty {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitUntilAnswered() }
                group.addTask { try? await Task.sleep(for: Self.endOfInputGrace) }
                await group.next()
                group.cancelAll()
                self.resumeDrained()
            }
        }
        continuation.finish()
    }

    static let endOfInputGrace = Duration.seconds(2)

    private func waitUntilAnswered() async {
        guard !unanswered.isEmpty else { return }
        await withCheckedContinuation { drained = $0 }
    }

    private func resumeDrained() {
        drained?.resume()
        drained = nil
    }

    public func disconnect() async {
        continuation.finish()
    }

    public func send(_ data: Data) async throws {
        if case let .response(id) = JSONRPCPeek(data), unanswered.remove(id) != nil, unanswered.isEmpty {
            resumeDrained()
        }
        var framed = data
        framed.append(UInt8(ascii: "\n"))
        try framed.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(output, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw MCPError.transportError(POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO))
                }
                offset += written
            }
        }
    }

    public nonisolated func receive() -> AsyncThrowingStream<Data, Error> { messages }

    /// Runs on the reader thread until end of input: one yielded message per non-empty line.
    private static func readLines(from fd: Int32, into continuation: AsyncStream<Data>.Continuation, logger: Logger) {
        var splitter = LineSplitter()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                logger.error("stdin read failed", metadata: ["errno": "\(errno)"])
                break
            }
            if count == 0 { break }
            // An unbounded splitter never throws: the client on stdio is the user's own process.
            let lines = (try? buffer.withUnsafeBytes { bytes throws(LineSplitter.LineTooLong) in
                try splitter.append(UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
            }) ?? []
            for line in lines where !line.isEmpty {
                continuation.yield(line)
            }
        }
        logger.debug("stdin closed")
        continuation.finish()
    }
}

/// Just enough of a JSON-RPC message to tell requests, responses and cancellations apart.
enum JSONRPCPeek: Equatable {
    case request(id: String)
    case response(id: String)
    case cancelled(id: String)
    case other

    init(_ data: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { self = .other; return }
        let method = object["method"] as? String
        if let id = object["id"].flatMap(Self.key) {
            self = method == nil ? .response(id: id) : .request(id: id)
        } else if method == "notifications/cancelled", let params = object["params"] as? [String: Any],
                  let id = params["requestId"].flatMap(Self.key) {
            self = .cancelled(id: id)
        } else {
            self = .other
        }
    }

    /// Request ids may be strings or numbers; the key keeps them apart ("7" is not 7).
    static func key(_ id: Any) -> String? {
        switch id {
        case let string as String: "s:" + string
        case let number as NSNumber: "n:" + number.stringValue
        default: nil
        }
    }
}
