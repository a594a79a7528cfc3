import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One control group per local sandbox, where the machine lets the server make them (root with a writable cgroup v2
/// hierarchy, or v1 `memory` and `pids` controllers): `memory` and `pids` limits that cover every process of the
/// sandbox together, and the RAM its tmpfs `/tmp` pages use, which per-process rlimits cannot.
///
/// Processes join by pid right after they are spawned, before the interpreter has run a line: the launcher is moved
/// first and then, top down, whatever it already forked, so nothing forked later can be outside the group.
final class SandboxCgroup: Sendable {
    /// The cgroup layout this machine offers, found once.
    enum Hierarchy: Sendable, Equatable {
        /// cgroup v2: one directory per group under the server's own.
        case unified(parent: String)
        /// cgroup v1: a directory in each of the memory and pids hierarchies, under the server's own groups there.
        case split(memoryParent: String, pidsParent: String)

        var name: String {
            switch self {
            case .unified: "cgroup v2"
            case .split: "cgroup v1"
            }
        }

        /// What this machine supports for a server running as this user; nil when no usable hierarchy is writable.
        static let detected: Hierarchy? = detect()

        private static func detect() -> Hierarchy? {
            guard geteuid() == 0 else { return nil }
            let memberships = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
            var paths: [String: String] = [:]
            for line in memberships.split(separator: "\n") {
                let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard fields.count == 3 else { continue }
                for controller in fields[1].split(separator: ",") { paths[String(controller)] = String(fields[2]) }
                if fields[0] == "0" { paths[""] = String(fields[2]) }
            }
            let unified = "/sys/fs/cgroup" + (paths[""] ?? "/")
            if let controllers = try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8),
               controllers.contains("memory"), controllers.contains("pids"), access(unified, W_OK) == 0 {
                return .unified(parent: unified)
            }
            // Under the server's own groups; in a container whose groups are not visible there, at the top.
            func own(_ controller: String) -> String {
                let nested = "/sys/fs/cgroup/\(controller)" + (paths[controller] ?? "/")
                return FileManager.default.fileExists(atPath: nested) ? nested : "/sys/fs/cgroup/\(controller)"
            }
            let memory = own("memory")
            let pids = own("pids")
            // A root group has no limit files of its own; its children do.
            if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/memory.limit_in_bytes"),
               FileManager.default.fileExists(atPath: pids + "/cgroup.procs"),
               access(memory, W_OK) == 0, access(pids, W_OK) == 0 {
                return .split(memoryParent: memory, pidsParent: pids)
            }
            return nil
        }
    }

    /// Names start with this and the server's pid, so the groups of a killed server can be found and removed.
    static let prefix = "rlm-mcp-"

    let hierarchy: Hierarchy
    /// The group's directories (one for v2, two for v1) and the `cgroup.procs` files processes are written to.
    private let directories: [String]

    /// Makes the group `name` with its limits; nil when this machine offers no hierarchy or the group cannot be made.
    static func make(name: String, memoryMB: Int, processes: Int, hierarchy: Hierarchy? = .detected) -> SandboxCgroup? {
        guard let hierarchy else { return nil }
        let group = "\(prefix)\(getpid())-\(name)"
        var limits: [(directory: String, file: String, value: String)]
        switch hierarchy {
        case let .unified(parent):
            // Controllers must be enabled for the children of the parent; harmless when they already are.
            write("+memory +pids", to: parent + "/cgroup.subtree_control")
            let directory = parent + "/" + group
            limits = [(directory, "memory.max", String(memoryMB * 1024 * 1024)), (directory, "memory.swap.max", "0"),
                      (directory, "pids.max", String(processes))]
        case let .split(memoryParent, pidsParent):
            limits = [(memoryParent + "/" + group, "memory.limit_in_bytes", String(memoryMB * 1024 * 1024)),
                      (pidsParent + "/" + group, "pids.max", String(processes))]
        }
        let directories = Array(Set(limits.map(\.directory))).sorted()
        for directory in directories where mkdir(directory, 0o755) != 0 && errno != EEXIST { return nil }
        let cgroup = SandboxCgroup(hierarchy: hierarchy, directories: directories)
        for limit in limits where !write(limit.value, to: limit.directory + "/" + limit.file) {
            // memory.swap.max is absent without swap accounting: only the essential limits must take.
            if limit.file == "memory.swap.max" { continue }
            cgroup.remove()
            return nil
        }
        return cgroup
    }

    private init(hierarchy: Hierarchy, directories: [String]) {
        self.hierarchy = hierarchy
        self.directories = directories
    }

    /// Moves a just-spawned process and everything it already forked into the group.
    func adopt(_ pid: pid_t) {
        var pending = [pid]
        var seen = Set<pid_t>()
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            for directory in directories { Self.write(String(next), to: directory + "/cgroup.procs") }
            // Listed after the move: a child forked from now on is born in the group.
            pending += Self.children(of: next)
        }
    }

    /// Removes the group once its processes are gone (it is empty after the sandbox's workers were killed); true when
    /// nothing of it is left.
    @discardableResult
    func remove() -> Bool {
        directories.allSatisfy { rmdir($0) == 0 || errno == ENOENT }
    }

    /// Removes groups of servers that are no longer running (their names carry the owner's pid).
    static func removeAbandoned(hierarchy: Hierarchy? = .detected) {
        guard let hierarchy else { return }
        let parents: [String] = switch hierarchy {
        case let .unified(parent): [parent]
        case let .split(memoryParent, pidsParent): [memoryParent, pidsParent]
        }
        for parent in parents {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where name.hasPrefix(prefix) {
                let owner = name.dropFirst(prefix.count).prefix { $0.isNumber }
                guard let pid = pid_t(owner), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                rmdir(parent + "/" + name)
            }
        }
    }

    private static func children(of pid: pid_t) -> [pid_t] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.flatMap { task in
            ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
    }

    @discardableResult
    private static func write(_ value: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return value.withCString { Glibc.write(fd, $0, strlen($0)) } >= 0
    }
}
