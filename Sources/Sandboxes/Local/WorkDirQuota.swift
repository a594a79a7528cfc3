import CSandboxSupport
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A per-sandbox cap on `/work` (`RLM_SANDBOX_DISK_MB`): where the server may mount (root), the sandbox's work dir is a
/// tmpfs of that size mounted on the host, so code that fills it gets ENOSPC while the host's disk keeps its free
/// space, and the host-side file tools still see every file (a mount inside bubblewrap's namespace would hide them).
/// Its pages are RAM (swappable) and count against the sandbox's cgroup when its code writes them.
enum WorkDirQuota {
    /// Mounts a tmpfs of `megabytes` at `path`, owned by `owner` (else by the server); false when mounting is not
    /// possible here (not root, no CAP_SYS_ADMIN): then only the per-file size limit holds.
    static func mount(at path: String, megabytes: Int, owner: UInt32?) -> Bool {
        guard geteuid() == 0 else { return false }
        var options = "size=\(megabytes * 1024 * 1024),mode=0700"
        if let owner { options += ",uid=\(owner),gid=\(owner)" }
        return rlm_mount_tmpfs(path, options) == 0
    }

    /// Unmounts what `mount` put at `path` (lazily: a worker that is still being killed cannot keep it busy).
    static func unmount(_ path: String) {
        _ = rlm_unmount_detached(path)
    }

    /// Unmounts every mount at or beneath `root` (the sandboxes of a server that was killed before it could).
    static func unmountAll(under root: String) {
        guard geteuid() == 0 else { return }
        let prefix = root.hasSuffix("/") ? root : root + "/"
        for point in mountPoints() where point.hasPrefix(prefix) || point == root {
            unmount(point)
        }
    }

    /// Mount points of this process's mount namespace (field 5 of /proc/self/mountinfo, octal escapes decoded).
    private static func mountPoints() -> [String] {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        return table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            return fields.count > 4 ? decode(fields[4]) : nil
        }
    }

    /// The kernel writes space, tab, newline and backslash in mount points as `\ooo`.
    private static func decode(_ field: Substring) -> String {
        var bytes: [UInt8] = []
        var index = field.utf8.startIndex
        let utf8 = field.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\\"), let end = utf8.index(index, offsetBy: 4, limitedBy: utf8.endIndex),
               let value = UInt8(String(decoding: utf8[utf8.index(after: index)..<end], as: UTF8.self), radix: 8) {
                bytes.append(value)
                index = end
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
