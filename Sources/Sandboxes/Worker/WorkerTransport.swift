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

/// Turns a byte stream into worker frames (lines of JSON with an `ev` member); anything else is ignored, so stray
/// lines (an echoed input, a shell banner) cannot confuse the protocol.
package struct FrameDecoder: Sendable {
    private var splitter = LineSplitter()

    package init() {}

    package mutating func append(_ bytes: UnsafeRawBufferPointer) -> [WorkerFrame] {
        splitter.append(bytes).compactMap(WorkerFrame.init(json:))
    }

    package mutating func append(_ data: Data) -> [WorkerFrame] {
        data.withUnsafeBytes { append($0) }
    }
}
