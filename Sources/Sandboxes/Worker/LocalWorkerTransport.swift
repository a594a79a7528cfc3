import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A worker that is a child process of this server: frames on two dedicated pipes (its fds 3 and 4), each direction
/// served by a thread of its own, so that nothing a worker does (stop reading, flood its output) can block the
/// server's concurrency pool or an actor.
struct LocalWorkerTransport: WorkerTransport {
    /// The most bytes that may wait for a worker that does not read them; past that the worker is stopped.
    static let outboxCapacity = 64 * 1024 * 1024

    let process: ChildProcess
    private let outbox: WorkerOutbox
    private let stopReason: StopReason

    /// Starts `argv` with the protocol pipes as fds 3 (frames in) and 4 (frames out).
    /// `cgroup`: the sandbox's control group, joined before the interpreter runs a line.
    static func spawn(argv: [String], environment: [String: String], cwd: String,
                      cgroup: SandboxCgroup? = nil) throws(SandboxError) -> StartedWorker<LocalWorkerTransport> {
        let input = try Pipe()
        let output = try Pipe()
        let stopReason = StopReason()
        let (stream, continuation) = AsyncStream<WorkerFrame>.makeStream()
        let fd = output.readEnd
        let outboxReady = OutboxSlot()
        let process: ChildProcess
        do {
            process = try ChildProcess.spawnOnOwnThread(argv, environment: environment, fds: [nil, nil, nil, input.readEnd, output.writeEnd],
                                                        cwd: cwd, name: "rlm-mcp.worker.in") { process in
                cgroup?.adopt(process.pid)
                close(input.readEnd)
                close(output.writeEnd)
                var decoder = FrameDecoder()
                var buffer = [UInt8](repeating: 0, count: 64 * 1024)
                reading: while true {
                    let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    do throws(FrameDecoder.FrameTooLarge) {
                        try decoder.append(Data(buffer[0..<count])).forEach { continuation.yield($0) }
                    } catch {
                        stopReason.set(error.description)
                        process.killGroup()
                        break reading
                    }
                }
                close(fd)
                outboxReady.outbox.close()
                let exit = process.waitForExit()
                continuation.yield(.exited(stopReason.value.map { WorkerExit(.stoppedByHost, $0) } ?? WorkerExit(exitStatus: exit)))
                continuation.finish()
            }
        } catch {
            close(input.readEnd); close(input.writeEnd); close(output.readEnd); close(output.writeEnd)
            throw error
        }
        let outbox = WorkerOutbox(fd: input.writeEnd, capacity: outboxCapacity, name: "rlm-mcp.worker.\(process.pid).out") {
            stopReason.set("it did not read the host's replies (more than \(outboxCapacity / (1024 * 1024)) MB were waiting) and was stopped")
            process.killGroup()
        }
        outboxReady.set(outbox)
        return StartedWorker(transport: LocalWorkerTransport(process: process, outbox: outbox, stopReason: stopReason), frames: stream)
    }

    func send(_ line: Data) {
        outbox.enqueue(line)
    }

    func kill() {
        process.killGroup()
        outbox.close()
    }
}

/// Frames waiting for a worker's input pipe, written by a thread of their own: a blocking write there waits for the
/// worker without holding anyone else up. More than `capacity` bytes waiting calls `onOverflow` (which stops the
/// worker); the descriptor is closed when the outbox closes and its last frame is written or abandoned.
final class WorkerOutbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var frames: [Data] = []
    private var next = 0
    private var waitingBytes = 0
    private var closed = false
    private let capacity: Int
    private let onOverflow: @Sendable () -> Void

    init(fd: Int32, capacity: Int, name: String, onOverflow: @escaping @Sendable () -> Void) {
        self.capacity = capacity
        self.onOverflow = onOverflow
        let thread = Thread { [self] in drain(into: fd) }
        thread.name = name
        thread.start()
    }

    /// Queues a frame. One frame is always accepted when nothing waits (the host's own input bounds its size).
    func enqueue(_ frame: Data) {
        condition.lock()
        guard !closed else { return condition.unlock() }
        guard waitingBytes == 0 || waitingBytes + frame.count <= capacity else {
            closed = true
            condition.broadcast()
            condition.unlock()
            onOverflow()
            return
        }
        frames.append(frame)
        waitingBytes += frame.count
        condition.signal()
        condition.unlock()
    }

    /// Stops accepting frames and lets the writer thread finish.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func drain(into fd: Int32) {
        defer { Glibc.close(fd) }
        // A worker that died leaves a pipe without a reader: get EPIPE here rather than a SIGPIPE that would end
        // whichever program embeds the sandbox (the signal a failed write raises goes to the writing thread).
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        while let frame = take() {
            if !writeAll(fd, frame) { return close() }
            condition.lock()
            waitingBytes -= frame.count
            condition.unlock()
        }
    }

    /// The next frame to write, waiting for one; nil once closed.
    private func take() -> Data? {
        condition.lock()
        defer { condition.unlock() }
        while next == frames.count, !closed { condition.wait() }
        guard !closed, next < frames.count else { return nil }
        let frame = frames[next]
        frames[next] = Data()
        next += 1
        if next > 64, next * 2 > frames.count {
            frames.removeFirst(next)
            next = 0
        }
        return frame
    }
}

/// The outbox, made once the worker exists, for the reader thread (which starts first) to close when the worker ends.
private final class OutboxSlot: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var value: WorkerOutbox?
    func set(_ outbox: WorkerOutbox) {
        value = outbox
        ready.signal()
    }
    var outbox: WorkerOutbox {
        ready.wait()
        ready.signal()
        return value!
    }
}

extension WorkerExit {
    /// An exit the host did not cause, from `waitForExit`: 128 + SIGKILL means a kill the host did not send.
    init(exitStatus: ProcessExit) {
        self.init(exitStatus.code == 128 + SIGKILL ? .killedBySignal : .exited, exitStatus.description)
    }
}

/// Why the host stopped a worker, when it did: reported instead of the bare exit status. The first reason stays.
final class StopReason: Sendable {
    private let reason = Mutex<String?>(nil)
    func set(_ text: String) { reason.withLock { if $0 == nil { $0 = text } } }
    var value: String? { reason.withLock { $0 } }
}
