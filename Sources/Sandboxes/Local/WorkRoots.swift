import Foundation
import RLMCommon

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The directory that holds every local sandbox of one server process, and the clean-up of those that servers
/// killed with SIGKILL left behind.
///
/// Each root is `rlm-mcp-<pid>-<random>` in the temp directory and holds an `owner.lock` that its server keeps
/// locked (`flock`) for as long as it runs. The kernel drops the lock when the process dies however it dies, so a
/// root whose lock can be taken belongs to nobody and is deleted; a root whose server still runs is never touched,
/// whoever started that server.
struct WorkRoot: Sendable {
    let path: String
    /// Holds the lock; never closed while the process lives (and not inherited: opened close-on-exec).
    private let lockFD: Int32

    static let prefix = "rlm-mcp-"
    static let lockName = "owner.lock"

    /// Creates a fresh root (mode 0711: sandbox uids may traverse it, not list it) and locks it.
    static func create(in temporary: String = NSTemporaryDirectory()) throws(SandboxError) -> WorkRoot {
        let path = (temporary as NSString).appendingPathComponent("\(prefix)\(getpid())-\(RandomID.base36())")
        guard mkdir(path, 0o711) == 0 else { throw .io("could not create \(path): \(String(cString: strerror(errno)))") }
        // The mode is set explicitly: the umask must not take away the traverse bit sandbox users need.
        chmod(path, 0o711)
        let fd = open(path + "/" + lockName, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw .io("could not lock \(path)/\(lockName): \(String(cString: strerror(errno)))")
        }
        let pid = Data("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return WorkRoot(path: path, lockFD: fd)
    }

    /// Deletes the root and lets go of its lock.
    func remove() {
        WorkDirQuota.unmountAll(under: path)
        try? FileManager.default.removeItem(atPath: path)
        close(lockFD)
    }

    /// Deletes the roots in `temporary` whose owner is gone; returns their paths. A root without a lock file (made by
    /// an older version, or caught between `mkdir` and `flock`) is left alone unless its owner pid is dead.
    @discardableResult
    static func removeAbandoned(in temporary: String = NSTemporaryDirectory()) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: temporary) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            let path = (temporary as NSString).appendingPathComponent(name)
            guard isAbandoned(path, name: name) else { continue }
            // Sized work dirs (tmpfs mounts) of the killed server's sandboxes go first, or the folder cannot.
            WorkDirQuota.unmountAll(under: path)
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }

    private static func isAbandoned(_ path: String, name: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == geteuid() else { return false }
        let fd = open(path + "/" + lockName, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
        if fd >= 0 {
            defer { close(fd) }
            return flock(fd, LOCK_EX | LOCK_NB) == 0
        }
        // No lock file: judge by the pid in the name (rlm-mcp-<pid>-<random>), and only when that process is gone.
        let fields = name.dropFirst(prefix.count).split(separator: "-")
        guard let pidText = fields.first, let pid = pid_t(pidText), pid > 0 else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
