import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A worker that is a child process of this server: frames on two dedicated pipes (its fds 3 and 4), read by a
/// thread of their own.
struct LocalWorkerTransport: WorkerTransport {
    let process: ChildProcess
    private let toWorker: FileDescriptorBox

    /// Starts `argv` with the protocol pipes as fds 3 (frames in) and 4 (frames out).
    static func spawn(argv: [String], environment: [String: String], cwd: String) throws(SandboxError) -> (LocalWorkerTransport, AsyncStream<WorkerFrame>) {
        let input = try Pipe()
        let output = try Pipe()
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(argv, environment: environment, fds: [nil, nil, nil, input.readEnd, output.writeEnd], cwd: cwd)
        } catch {
            close(input.readEnd); close(input.writeEnd); close(output.readEnd); close(output.writeEnd)
            throw error
        }
        close(input.readEnd)
        close(output.writeEnd)
        let (stream, continuation) = AsyncStream<WorkerFrame>.makeStream()
        let fd = output.readEnd
        let reader = Thread {
            var decoder = FrameDecoder()
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                for frame in buffer.withUnsafeBytes({ decoder.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }) {
                    continuation.yield(frame)
                }
            }
            let exit = process.waitForExit()
            continuation.yield(.exited(exit.description))
            continuation.finish()
            close(fd)
        }
        reader.name = "rlm-mcp.worker.\(process.pid)"
        reader.start()
        return (LocalWorkerTransport(process: process, toWorker: FileDescriptorBox(input.writeEnd)), stream)
    }

    func send(_ line: Data) {
        if !writeAll(toWorker.fd, line) { process.killGroup() }
    }

    func kill() {
        process.killGroup()
    }
}

/// Closes the write end of the frames pipe when the last copy of the transport goes away.
final class FileDescriptorBox: Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
