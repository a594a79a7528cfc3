import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What the start-up probes found (the interpreter and the isolation that works), kept on disk between server starts
/// so a start skips them while nothing they depend on changed.
struct ProbeCache: Sendable {
    /// Everything a probe's answer depends on: a change to any of it (a new interpreter or bubblewrap, another user,
    /// other settings) makes the saved answer stale.
    struct Key: Codable, Equatable, Sendable {
        var format = ProbeCache.format
        /// The interpreter as configured (`RLM_PYTHON`) or found on PATH, with its modification time and size.
        var interpreter: String
        var interpreterStamp: FileStamp?
        var bubblewrap: String
        var bubblewrapStamp: FileStamp?
        var euid: UInt32
        var preferred: String?
        var allowUnsafe: Bool
    }

    /// A file's identity for staleness checks: replacing or upgrading it changes at least one of these.
    struct FileStamp: Codable, Equatable, Sendable {
        var mtimeNanoseconds: Int64
        var size: Int64
        var inode: UInt64

        /// The stamp of the file at `path` (following links), nil when it is missing.
        static func of(_ path: String) -> FileStamp? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return FileStamp(mtimeNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                             size: Int64(info.st_size), inode: UInt64(info.st_ino))
        }
    }

    struct Entry: Codable, Equatable, Sendable {
        var key: Key
        var python: PythonInstallation
        /// The resolved interpreter's own stamp: it must still be the same file when the entry is used.
        var executableStamp: FileStamp
        var level: IsolationLevel
    }

    /// Bumped whenever `Entry` or what the probes check changes, so an older server's file is simply not used.
    static let format = 1

    let path: String

    /// `$XDG_CACHE_HOME/rlm-mcp/probes.json`, else `~/.cache/rlm-mcp/probes.json`, where `~` is `$HOME` or, for a
    /// client that starts servers with a bare environment, the user's home in the password database.
    static func defaultLocation(environment: [String: String] = ProcessInfo.processInfo.environment,
                                accountHome: () -> String? = ProbeCache.accountHome) -> ProbeCache? {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return ProbeCache(path: xdg + "/rlm-mcp/probes.json")
        }
        if let home = environment["HOME"] ?? accountHome(), home.hasPrefix("/") {
            return ProbeCache(path: home + "/.cache/rlm-mcp/probes.json")
        }
        return nil
    }

    /// This user's home directory from the password database (`getpwuid_r`: other threads may look up users too).
    static func accountHome() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBufferPointer { strings in
            var entry = passwd()
            var found: UnsafeMutablePointer<passwd>?
            guard let start = strings.baseAddress, getpwuid_r(geteuid(), &entry, start, strings.count, &found) == 0, found != nil,
                  let directory = entry.pw_dir
            else { return nil }
            return String(cString: directory)
        }
    }

    /// The saved entry for `key`, or nil when there is none, it is unreadable, corrupt, for another key, not this
    /// user's own file, writable by others, or its interpreter changed since: every such case just means "probe again".
    func load(for key: Key) -> Entry? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, Self.isOwnFile(info), info.st_size < 64 * 1024 else { return nil }
        var data = Data(count: Int(info.st_size))
        let count = data.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count == Int(info.st_size),
              let entry = try? JSONDecoder().decode(Entry.self, from: data),
              entry.key == key,
              FileStamp.of(entry.python.executable) == entry.executableStamp
        else { return nil }
        return entry
    }

    /// Saves `entry` atomically (a whole new file renamed over the old one), readable only by this user; failures are
    /// ignored: the cache only saves time.
    func save(_ entry: Entry) {
        let directory = (path as NSString).deletingLastPathComponent
        for dir in [(directory as NSString).deletingLastPathComponent, directory] where access(dir, F_OK) != 0 {
            mkdir(dir, 0o700)
        }
        guard let data = try? JSONEncoder().encode(entry) else { return }
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let written = writeAll(fd, data)
        close(fd)
        if !written || rename(temporary, path) != 0 { unlink(temporary) }
    }

    /// A regular file of this user's that nobody else may write: someone else's file, or one others may write, must
    /// not choose how (or what) code runs in the sandboxes.
    static func isOwnFile(_ info: stat) -> Bool {
        info.st_mode & S_IFMT == S_IFREG && info.st_uid == geteuid() && info.st_mode & 0o022 == 0
    }

    /// Forgets the saved answer (it was found not to hold any more).
    func remove() {
        unlink(path)
    }
}
