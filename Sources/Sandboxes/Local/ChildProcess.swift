import CSandboxSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process in its own process group, started with `posix_spawn` and an explicit file-descriptor table,
/// so the sandbox can kill it together with everything it started.
struct ChildProcess: Sendable {
    let pid: pid_t

    /// Starts `argv` with `fds[i]` as its descriptor `i` (entries that are nil get /dev/null); every other descriptor
    /// is closed in the child before exec, whether or not it was opened close-on-exec: sandboxed code must never see
    /// the server's listening socket, client connections, epoll instances or other workers' pipes.
    static func spawn(_ argv: [String], environment: [String: String], fds: [Int32?], cwd: String) throws(SandboxError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull) }
        // A source numbered below fds.count could be overwritten by an earlier dup2 onto its number: move such
        // sources above the table first.
        var temporaries: [Int32] = []
        defer { temporaries.forEach { close($0) } }
        let sources: [Int32] = fds.map { source in
            let fd = source ?? devNull
            guard fd < Int32(fds.count) else { return fd }
            let moved = fcntl(fd, F_DUPFD_CLOEXEC, Int32(fds.count))
            if moved >= 0 { temporaries.append(moved) }
            return moved >= 0 ? moved : fd
        }
        // dup2 clears FD_CLOEXEC on the target, so the child keeps exactly the descriptors listed here.
        for (target, source) in sources.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, source, Int32(target))
        }
        guard rlm_spawn_file_actions_addclosefrom(&actions, Int32(fds.count)) == 0 else {
            throw .workerFailed("this C library cannot close inherited descriptors in a child (posix_spawn_file_actions_addclosefrom_np, glibc 2.34+); refusing to start sandboxed code that could see the server's sockets")
        }
        rlm_spawn_file_actions_addchdir(&actions, cwd)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard status == 0 else {
            throw .workerFailed("could not start \(argv[0]): \(String(cString: strerror(status)))")
        }
        return ChildProcess(pid: pid)
    }

    /// Spawns on a thread of its own that then runs `whileAlive` (reading the child's output, waiting for it), and
    /// returns once the child exists.
    ///
    /// bubblewrap's `--die-with-parent` (PR_SET_PDEATHSIG) fires when the *thread* that spawned it exits, not the
    /// process: a child spawned from a pooled thread would be killed whenever the pool retires that thread (after a
    /// few idle seconds). The thread that spawns here lives exactly as long as `whileAlive` runs.
    static func spawnOnOwnThread(_ argv: [String], environment: [String: String], fds: [Int32?], cwd: String, name: String,
                                 whileAlive: @escaping @Sendable (ChildProcess) -> Void) throws(SandboxError) -> ChildProcess {
        let handoff = Handoff()
        let thread = Thread {
            let result = Result { () throws(SandboxError) in try spawn(argv, environment: environment, fds: fds, cwd: cwd) }
            handoff.put(result)
            if case let .success(process) = result { whileAlive(process) }
        }
        thread.name = name
        thread.start()
        return try handoff.take().get()
    }

    /// Passes the spawn's outcome from the spawning thread to the caller.
    private final class Handoff: @unchecked Sendable {
        private let ready = DispatchSemaphore(value: 0)
        private var result: Result<ChildProcess, SandboxError>?
        func put(_ result: Result<ChildProcess, SandboxError>) {
            self.result = result
            ready.signal()
        }
        func take() -> Result<ChildProcess, SandboxError> {
            ready.wait()
            return result!
        }
    }

    /// Kills the whole process group (the launcher, the worker and anything the code started).
    func killGroup() {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
    }

    /// Blocks until the process exits.
    func waitForExit() -> ProcessExit {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return ProcessExit(code: -1, description: "unknown exit (\(String(cString: strerror(errno))))") }
        }
        // WIFEXITED / WTERMSIG are macros that Swift does not import.
        let signal = status & 0x7f
        if signal == 0 { return ProcessExit(code: (status >> 8) & 0xff, description: "exit code \((status >> 8) & 0xff)") }
        let name = signal == SIGKILL ? " (SIGKILL)" : signal == SIGXCPU ? " (SIGXCPU: CPU time limit)" : ""
        return ProcessExit(code: 128 + signal, description: "signal \(signal)\(name)")
    }
}

/// How a child process ended: its status as a shell reports it (128 + the signal when one killed it) and a description
/// such as "exit code 1" or "signal 9 (SIGKILL)".
struct ProcessExit: Sendable, Equatable {
    let code: Int32
    let description: String
}

/// A pipe whose two ends are close-on-exec in this process.
struct Pipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws(SandboxError) {
        var ends: [Int32] = [0, 0]
        guard rlm_pipe_cloexec(&ends) == 0 else { throw .io("pipe2 failed: \(String(cString: strerror(errno)))") }
        readEnd = ends[0]
        writeEnd = ends[1]
    }
}

/// Writes all of `data` to `fd`, retrying on EINTR and short writes; false when a write fails (`errno` says why).
package func writeAll(_ fd: Int32, _ data: Data) -> Bool {
    data.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}
