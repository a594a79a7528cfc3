import Foundation

/// How frames travel between the host and one worker: `WorkerChannel` does the framing and the protocol, a transport
/// only moves bytes. The transport's frame stream (handed to `WorkerChannel.start`) ends with `WorkerFrame.exited`.
package protocol WorkerTransport: Sendable {
    /// Delivers one newline-terminated frame; frames arrive in the order they were sent. Never blocks the caller for
    /// long; a frame that cannot be delivered ends the worker (its stream ends with `exited`).
    func send(_ line: Data)
    /// Stops the worker for good; idempotent.
    func kill()
}

/// A worker just started by a transport: the transport that talks to it and the frames it sends, ending with an
/// `exited` frame (what `WorkerChannel.start` takes).
package struct StartedWorker<Transport: WorkerTransport>: Sendable {
    package let transport: Transport
    package let frames: AsyncStream<WorkerFrame>

    package init(transport: Transport, frames: AsyncStream<WorkerFrame>) {
        self.transport = transport
        self.frames = frames
    }
}

/// Turns a byte stream into worker frames (lines of JSON with an `ev` member); anything else is ignored, so stray
/// lines (an echoed input, a shell banner) cannot confuse the protocol. A frame longer than the cap ends the stream
/// with `FrameTooLarge`: the worker is untrusted, and an unbounded line would let it grow the server without limit.
package struct FrameDecoder: Sendable {
    /// The longest frame a worker may send: room for a full `max_output_chars` result, a large `SUBMIT` or a batch of
    /// big sub-prompts, far below what would hurt the server.
    package static let maxFrameBytes = 64 * 1024 * 1024

    /// A worker sent a frame past the cap; it must be stopped.
    package struct FrameTooLarge: Error, Sendable, CustomStringConvertible {
        package let limit: Int
        package var description: String {
            "it sent a protocol frame larger than \(limit / (1024 * 1024)) MB (a single print, variable or SUBMIT of that size?) and was stopped"
        }
    }

    private var splitter: LineSplitter

    package init(maxFrameBytes: Int = FrameDecoder.maxFrameBytes) {
        splitter = LineSplitter(maxLineBytes: maxFrameBytes)
    }

    package mutating func append(_ data: Data) throws(FrameTooLarge) -> [WorkerFrame] {
        do throws(LineSplitter.LineTooLong) {
            return try splitter.append(data).compactMap(WorkerFrame.init(json:))
        } catch {
            throw FrameTooLarge(limit: error.limit)
        }
    }
}
