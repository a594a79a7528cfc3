import CSandboxSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// File access confined to one directory tree that untrusted code can also write to.
///
/// Every path is opened with `openat2(RESOLVE_BENEATH)`, so `..`, absolute symlinks and symlinks that lead out are
/// refused by the kernel at open time, with no window for the code to swap a directory for a link between a check
/// and the open.
struct ContainedFiles: Sendable {
    let root: String
    /// The path code inside the sandbox uses for `root` (e.g. /work), accepted as a prefix of absolute paths.
    let visibleRoot: String
    /// Files and directories created by the host are handed to this uid so the worker can change them.
    let owner: UInt32?

    /// The path relative to the root, or an error explaining why it is not allowed (`SandboxPath`'s rule).
    func relative(_ path: String) throws(SandboxError) -> String {
        try SandboxPath.relative(path, root: visibleRoot)
    }

    func write(_ path: String, data: Data) throws(SandboxError) {
        let relative = try relative(path)
        guard relative != "." else { throw .invalidPath(path, reason: "it is the work dir itself; name a file") }
        let components = relative.split(separator: "/")
        let parent = components.dropLast().joined(separator: "/")
        try makeDirectories(parent.isEmpty ? "." : parent, original: path)
        // Not O_TRUNC: the file is truncated only once it is known to be a regular file (see `openRegularFile`).
        let fd = try openRegularFile(relative, flags: O_WRONLY | O_CREAT, original: path)
        defer { close(fd) }
        guard ftruncate(fd, 0) == 0 else { throw .io("could not write \(path): \(String(cString: strerror(errno)))") }
        if let owner { fchown(fd, owner, owner) }
        guard writeAll(fd, data) else {
            let reason = errno == ENOSPC || errno == EFBIG
                ? "the sandbox's disk quota is full (RLM_SANDBOX_DISK_MB); delete files in the sandbox or raise the quota"
                : String(cString: strerror(errno))
            throw .io("could not write \(path): \(reason)")
        }
    }

    /// Unlinks a file through its parent directory's descriptor, so the name cannot be swapped for a link out.
    func remove(_ path: String) throws(SandboxError) {
        let relative = try relative(path)
        let components = relative.split(separator: "/")
        guard relative != ".", let name = components.last else { throw .invalidPath(path, reason: "it is the work dir itself; name a file") }
        let parent = components.dropLast().joined(separator: "/")
        let directory = try open(parent.isEmpty ? "." : parent, flags: O_RDONLY | O_DIRECTORY, mode: 0, original: path)
        defer { close(directory) }
        guard unlinkat(directory, String(name), 0) == 0 else {
            switch errno {
            case ENOENT: throw .notFound(path)
            case EISDIR: throw .invalidPath(path, reason: "it is a directory")
            default: throw .io("cannot delete \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    func read(_ path: String, maxBytes: Int) throws(SandboxError) -> Data {
        let fd = try openRegularFile(try relative(path), flags: O_RDONLY, original: path)
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        guard info.st_size <= maxBytes else { throw .tooLarge(path, size: Int(info.st_size), limit: maxBytes) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while data.count <= maxBytes {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw .io("could not read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        guard data.count <= maxBytes else { throw .tooLarge(path, size: data.count, limit: maxBytes) }
        return data
    }

    /// Checks that `path` is a directory beneath the root (no link on the way leads out); returns its relative path.
    func directory(_ path: String) throws(SandboxError) -> String {
        let relative = try relative(path)
        let fd = try open(relative, flags: O_RDONLY | O_DIRECTORY, mode: 0, original: path)
        close(fd)
        return relative
    }

    /// Entries under `path` (recursively when asked), without following symbolic links.
    ///
    /// Breadth-first over relative paths rather than open descriptors, so a tree of any shape holds at most two
    /// descriptors; more than `limit` entries is an error rather than a listing that silently stops.
    func list(_ path: String, recursive: Bool, limit: Int = 10_000) throws(SandboxError) -> [FileEntry] {
        let start = try relative(path)
        var entries: [FileEntry] = []
        var pending: [String] = [start]
        var next = 0
        while next < pending.count {
            let directoryPath = pending[next]
            next += 1
            let prefix = directoryPath == "." ? "" : directoryPath + "/"
            let directory: Int32
            do {
                directory = try open(directoryPath, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW, mode: 0, original: path)
            } catch {
                // The start must open; a subdirectory that vanished or became a link since it was listed is skipped.
                if next == 1 { throw error }
                continue
            }
            guard let handle = fdopendir(directory) else {
                close(directory)
                continue
            }
            defer { closedir(handle) }
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                guard entries.count < limit else { throw .tooManyEntries(path, limit: limit) }
                var info = stat()
                guard fstatat(dirfd(handle), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let isDirectory = (info.st_mode & S_IFMT) == S_IFDIR
                entries.append(FileEntry(name: name, path: prefix + name, isDirectory: isDirectory, size: isDirectory ? 0 : Int(info.st_size),
                                         modified: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9))
                if recursive && isDirectory { pending.append(prefix + name) }
            }
        }
        return entries.sorted { $0.path < $1.path }
    }

    private func makeDirectories(_ relative: String, original: String) throws(SandboxError) {
        guard relative != "." else { return }
        var built = ""
        for part in relative.split(separator: "/") {
            built += built.isEmpty ? String(part) : "/\(part)"
            let parentFD = try open(built.contains("/") ? String(built[..<built.lastIndex(of: "/")!]) : ".", flags: O_RDONLY | O_DIRECTORY, mode: 0, original: original)
            defer { close(parentFD) }
            if mkdirat(parentFD, String(part), 0o755) == 0 {
                if let owner { fchownat(parentFD, String(part), owner, owner, AT_SYMLINK_NOFOLLOW) }
            } else if errno != EEXIST {
                throw .io("could not create directory \(built): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Opens a file that must be a regular file. `O_NONBLOCK` makes opening a FIFO (which code in the sandbox can
    /// create anywhere in the work dir) return at once instead of waiting forever for a peer; anything that is not a
    /// regular file is then refused before a byte is read or written.
    private func openRegularFile(_ relative: String, flags: Int32, original: String) throws(SandboxError) -> Int32 {
        let fd = try open(relative, flags: flags | O_NOFOLLOW | O_NONBLOCK, mode: flags & O_CREAT != 0 ? 0o644 : 0, original: original)
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw .io("cannot inspect \(original): \(String(cString: strerror(errno)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
            return fd
        case S_IFDIR:
            close(fd)
            throw .invalidPath(original, reason: "it is a directory; list it with sandbox_files")
        default:
            close(fd)
            throw .notARegularFile(original)
        }
    }

    private func open(_ relative: String, flags: Int32, mode: UInt32, original: String) throws(SandboxError) -> Int32 {
        let rootFD = Glibc.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { throw .io("the sandbox work dir is gone: \(String(cString: strerror(errno)))") }
        defer { close(rootFD) }
        let fd = rlm_openat2(rootFD, relative, UInt64(flags | O_CLOEXEC), UInt64(mode), Self.resolveBeneath | Self.resolveNoMagicLinks)
        if fd >= 0 { return fd }
        switch errno {
        case EXDEV: throw .invalidPath(original, reason: "it (or a symbolic link on the way) leads outside the sandbox work dir")
        case ENOSYS: throw .io("this kernel lacks openat2 (Linux 5.6+), which safe file access in the sandbox needs")
        case ELOOP: throw .invalidPath(original, reason: "it is a symbolic link; links are not followed here")
        case ENOENT: throw .notFound(original)
        case ENOTDIR: throw .invalidPath(original, reason: "a part of it is not a directory")
        case EISDIR: throw .invalidPath(original, reason: "it is a directory")
        // A FIFO without a reader, or a socket, opened for writing.
        case ENXIO: throw .notARegularFile(original)
        default: throw .io("cannot open \(original): \(String(cString: strerror(errno)))")
        }
    }

    private static let resolveNoMagicLinks: UInt64 = 0x02
    private static let resolveBeneath: UInt64 = 0x08
}
