import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The worker script compiled by the interpreter that runs it, kept beside the probe answers: a worker started from
/// bytecode skips compiling the script, ~4 ms and ~1.3 MB of every namespace.
struct WorkerBytecode: Sendable {
    /// The probe cache's folder (the user's own, mode 0700).
    let directory: String

    /// The file name workers run it under, so the process list still says what they are.
    static let fileName = "rlm_worker.pyc"
    /// The script's name inside the sandbox, which tracebacks of the worker's own failures show.
    static let displayName = "/opt/rlm-mcp/rlm_worker.py"

    /// The bytecode of `script` (at `scriptPath`) for `python`: the kept file when `reuse` allows, otherwise compiled
    /// now (one interpreter run, ~20 ms; callers are on a thread of their own). nil when it cannot be made: workers
    /// then run the script itself.
    func load(script: Data, scriptPath: String, python: PythonInstallation, reuse: Bool) -> Data? {
        guard let stamp = ProbeCache.FileStamp.of(python.executable) else { return nil }
        let path = "\(directory)/rlm_worker-\(Self.key(script: script, python: python, stamp: stamp)).pyc"
        if reuse, let kept = Self.readOwnFile(path) { return kept }
        return compile(scriptPath, python: python, to: path) ? Self.readOwnFile(path) : nil
    }

    /// A name for what the bytecode depends on: the script, and the interpreter file that compiles and runs it.
    static func key(script: Data, python: PythonInstallation, stamp: ProbeCache.FileStamp) -> String {
        var hash = SHA256()
        hash.update(data: script)
        hash.update(data: Data("\0\(python.executable)\0\(python.version)\0\(stamp.mtimeNanoseconds):\(stamp.size):\(stamp.inode)".utf8))
        return hash.finalize().prefix(16).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Compiles into a temporary file renamed over `path`, then deletes the bytecode of earlier scripts or interpreters.
    private func compile(_ scriptPath: String, python: PythonInstallation, to path: String) -> Bool {
        mkdir((directory as NSString).deletingLastPathComponent, 0o700)
        mkdir(directory, 0o700)
        let temporary = "\(path).\(getpid()).tmp"
        let program = "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], dfile=sys.argv[3], doraise=True)"
        guard let process = try? ChildProcess.spawn([python.executable, "-I", "-S", "-B", "-c", program, scriptPath, temporary, Self.displayName],
                                                    environment: ["PATH": "/usr/bin:/bin"], fds: [nil, nil, nil], cwd: "/")
        else { return false }
        guard process.waitForExit().code == 0, chmod(temporary, 0o600) == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            return false
        }
        let kept = (path as NSString).lastPathComponent
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix("rlm_worker-") && name.hasSuffix(".pyc") && name != kept {
            unlink("\(directory)/\(name)")
        }
        return true
    }

    /// The file's bytes when it is this user's own regular file that nobody else may write: bytecode from anyone
    /// else must not choose what runs in the sandboxes.
    private static func readOwnFile(_ path: String) -> Data? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, ProbeCache.isOwnFile(info), info.st_size > 16, info.st_size < 4 * 1024 * 1024 else { return nil }
        var data = Data(count: Int(info.st_size))
        let count = data.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return count == Int(info.st_size) ? data : nil
    }
}
