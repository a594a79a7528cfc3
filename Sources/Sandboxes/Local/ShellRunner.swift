import Foundation
import RLMCommon

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs one shell command to completion with captured, capped output and a timeout that kills its process group.
enum ShellRunner {
    static let outputCap = 100_000

    static func run(_ argv: [String], environment: [String: String], cwd: String, timeout: Duration,
                    cgroup: SandboxCgroup? = nil) async throws -> ShellResult {
        let stdout = try Pipe()
        let stderr = try Pipe()
        let started = ContinuousClock.now
        let finished = Finished()
        let process: ChildProcess
        do {
            // The spawning thread collects the output and waits for the command, so it outlives the command (see
            // `spawnOnOwnThread` for why that matters).
            process = try ChildProcess.spawnOnOwnThread(argv, environment: environment, fds: [nil, stdout.writeEnd, stderr.writeEnd],
                                                        cwd: cwd, name: "rlm-mcp.shell") { process in
                cgroup?.adopt(process.pid)
                close(stdout.writeEnd)
                close(stderr.writeEnd)
                let errors = CappedCollector(fd: stderr.readEnd, cap: outputCap)
                let errorThread = Thread { errors.drain() }
                errorThread.start()
                let output = CappedCollector(fd: stdout.readEnd, cap: outputCap)
                output.drain()
                errors.waitUntilDrained()
                let exit = process.waitForExit()
                // Background jobs the command left behind die with it.
                process.killGroup()
                finished.deliver(Outcome(stdout: output.text, stderr: errors.text, truncated: output.truncated || errors.truncated, exitCode: exit.code))
            }
        } catch {
            [stdout.readEnd, stdout.writeEnd, stderr.readEnd, stderr.writeEnd].forEach { _ = close($0) }
            throw error
        }
        let timedOut = Flag()
        let watchdog = Watchdog(after: timeout) {
            timedOut.set()
            process.killGroup()
        }
        defer { watchdog.cancel() }
        let outcome = await withTaskCancellationHandler {
            await finished.wait()
        } onCancel: {
            process.killGroup()
        }
        try Task.checkCancellation()
        return ShellResult(
            stdout: outcome.stdout, stderr: outcome.stderr + (timedOut.isSet ? "\n[timed out after \(timeout.components.seconds) s; the command was killed]" : ""),
            exitCode: outcome.exitCode, timedOut: timedOut.isSet, truncated: outcome.truncated,
            durationMS: (ContinuousClock.now - started).milliseconds
        )
    }

    /// What the command left: its capped output and exit code.
    struct Outcome: Sendable {
        let stdout: String
        let stderr: String
        let truncated: Bool
        let exitCode: Int32
    }

    /// Hands the outcome from the collecting thread to the waiting task, whichever comes first.
    final class Finished: @unchecked Sendable {
        private let lock = NSLock()
        private var outcome: Outcome?
        private var waiter: CheckedContinuation<Outcome, Never>?

        func deliver(_ value: Outcome) {
            let waiting: CheckedContinuation<Outcome, Never>? = lock.withLock {
                outcome = value
                defer { waiter = nil }
                return waiter
            }
            waiting?.resume(returning: value)
        }

        func wait() async -> Outcome {
            await withCheckedContinuation { continuation in
                let ready: Outcome? = lock.withLock {
                    if outcome == nil { waiter = continuation }
                    return outcome
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}

/// Reads a descriptor to its end, keeping the first `cap` bytes.
private final class CappedCollector: @unchecked Sendable {
    private let fd: Int32
    private let cap: Int
    private var data = Data()
    private var total = 0
    private let done = DispatchSemaphore(value: 0)

    init(fd: Int32, cap: Int) {
        self.fd = fd
        self.cap = cap
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            total += count
            if data.count < cap { data.append(contentsOf: buffer[0..<min(count, cap - data.count)]) }
        }
        close(fd)
        done.signal()
    }

    func waitUntilDrained() { done.wait() }

    var truncated: Bool { total > data.count }
    var text: String {
        String(decoding: data, as: UTF8.self) + (truncated ? "\n... [output truncated: \(total - data.count) more bytes not shown]" : "")
    }
}

/// A one-way flag shared between a watchdog and the code that reports.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
