import Foundation
import JSONRPCWire
import Logging
import Sandboxes
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads newline-delimited messages from a file descriptor on a thread parked in `read(2)`.
///
/// Why a blocking thread: polling a non-blocking stdin (as swift-sdk's `StdioTransport` did, sleeping 10 ms whenever no
/// byte was waiting) made every request at an idle server wait ~5 ms and woke the idle process 100 times a second. A
/// thread parked in `read(2)` answers at once and costs nothing while idle.
enum StdioLineReader {
    /// The non-empty lines of `fd` until end of input.
    static func start(fd: Int32, logger: Logger) -> AsyncStream<Data> {
        let (lines, sink) = AsyncStream<Data>.makeStream()
        let reader = Thread { readLines(from: fd, into: sink, logger: logger) }
        reader.name = "rlm-mcp.stdin"
        reader.start()
        return lines
    }

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

/// Writes one message per line to a file descriptor; a lock keeps concurrent writers' lines whole.
final class StdioWriter: Sendable {
    private let fd: Int32
    private let logger: Logger
    private let lock = Mutex(())

    init(fd: Int32, logger: Logger) {
        self.fd = fd
        self.logger = logger
    }

    func send(_ data: Data) {
        var framed = data
        framed.append(UInt8(ascii: "\n"))
        lock.withLock { _ in
            // A failed write means the client closed stdout: nothing more can reach it.
            if !writeAll(fd, framed) { logger.debug("stdout write failed", metadata: ["errno": "\(errno)"]) }
        }
    }
}
