import Foundation
import RLMCommon

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The isolation levels live in RLMCommon, shared with the configuration that chooses one.
public typealias IsolationLevel = RLMCommon.IsolationLevel

/// Builds the command line that starts a program under an isolation level, and finds the strongest level that works.
public struct IsolationPlan: Sendable {
    public let level: IsolationLevel
    let python: PythonInstallation
    /// When the server runs as root, workers drop to this uid/gid (one per sandbox) so process limits count only them.
    let unprivilegedID: UInt32?
    /// Size of the private `/tmp` (a tmpfs: RAM that the address-space limit does not count); nil leaves bubblewrap's
    /// default of half the machine's memory.
    var tmpSizeMB: Int?

    /// Where the sandbox's working directory appears to the code.
    func visibleWorkDir(host: String) -> String { level == .bubblewrap ? "/work" : host }
    /// Where the worker script (or its bytecode, `rlm_worker.pyc`) appears to the code.
    func visibleWorkerScript(host: String) -> String {
        level == .bubblewrap ? "/opt/rlm-mcp/" + (host as NSString).lastPathComponent : host
    }

    /// The full argv: isolation wrapper, privilege drop, then `program`.
    /// `cwd` is where the program starts, as the sandbox sees it (only bubblewrap needs it; the others start in the
    /// spawn's working directory).
    func command(_ program: [String], workDir: String, workerScript: String, cwd: String = "/work") -> [String] {
        var argv: [String] = []
        switch level {
        case .bubblewrap:
            argv = [Tools.bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
            if unprivilegedID == nil { argv.append("--unshare-user") }
            argv += ["--ro-bind", "/usr", "/usr"]
            for link in ["lib", "lib64", "bin", "sbin"] where FileManager.default.fileExists(atPath: "/usr/\(link)") {
                argv += ["--symlink", "usr/\(link)", "/\(link)"]
            }
            // bwrap makes missing parents of a mount point 0700, which a dropped uid cannot cross: create them 0755.
            var created: Set<String> = []
            func parents(of path: String) {
                var current = ""
                for component in path.split(separator: "/").dropLast() {
                    current += "/\(component)"
                    if current != "/usr", !current.hasPrefix("/usr/"), created.insert(current).inserted {
                        argv += ["--perms", "0755", "--dir", current]
                    }
                }
            }
            for prefix in python.prefixes where !prefix.hasPrefix("/usr/") && prefix != "/usr" {
                parents(of: prefix)
                argv += ["--ro-bind", prefix, prefix]
            }
            parents(of: visibleWorkerScript(host: workerScript))
            argv += ["--ro-bind", workerScript, visibleWorkerScript(host: workerScript),
                     "--bind", workDir, "/work", "--chdir", cwd,
                     "--perms", "1777"]
            if let tmpSizeMB { argv += ["--size", String(tmpSizeMB * 1024 * 1024)] }
            argv += ["--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
                     "--setenv", "HOME", "/work", "--setenv", "TMPDIR", "/tmp"]
            if unprivilegedID != nil { argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] }
        case .unshare:
            argv = [Tools.unshare, "--pid", "--net", "--ipc", "--uts", "--fork", "--kill-child", "--mount-proc"]
            if unprivilegedID == nil { argv += ["--user", "--map-root-user"] }
        case .none:
            break
        }
        if let id = unprivilegedID, level != .none {
            argv += [Tools.setpriv, "--reuid=\(id)", "--regid=\(id)", "--clear-groups", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]
        }
        return argv + program
    }

    /// Tries `preferred` (or every level, strongest first) by running `python -c pass` under it.
    public static func detect(preferred: IsolationLevel?, allowUnsafe: Bool, python: PythonInstallation, probeDir: String) throws(SandboxError) -> IsolationPlan {
        let dropTo = dropsPrivileges ? probeUID : nil
        let candidates: [IsolationLevel] = preferred.map { [$0] } ?? [.bubblewrap, .unshare]
        var failures: [String] = []
        for level in candidates {
            if level == .none {
                guard allowUnsafe else {
                    failures.append("none: refused without RLM_SANDBOX_UNSAFE=1 / --unsafe-local")
                    break
                }
                return IsolationPlan(level: .none, python: python, unprivilegedID: nil)
            }
            let plan = IsolationPlan(level: level, python: python, unprivilegedID: dropTo)
            let probe = plan.command([python.executable, "-I", "-c", "pass"], workDir: probeDir, workerScript: python.executable)
            guard let tool = probe.first, FileManager.default.isExecutableFile(atPath: tool) else {
                failures.append("\(level.rawValue): \(probe.first ?? "?") is not installed")
                continue
            }
            do {
                let process = try ChildProcess.spawn(probe, environment: ["PATH": "/usr/bin:/bin"], fds: [nil, nil, nil], cwd: probeDir)
                let exit = process.waitForExit()
                if exit.code == 0 { return plan }
                failures.append("\(level.rawValue): a test run of \(python.executable) failed with \(exit.description)"
                    + (level == .unshare && dropTo != nil ? " (as uid \(probeUID) it must be able to read the interpreter; try RLM_PYTHON=/usr/bin/python3)" : ""))
            } catch {
                failures.append("\(level.rawValue): \(error)")
            }
        }
        if allowUnsafe && preferred == nil { return IsolationPlan(level: .none, python: python, unprivilegedID: nil) }
        throw .isolationUnavailable(
            "no sandbox isolation works on this machine (\(failures.joined(separator: "; "))). Install bubblewrap "
                + "(apt-get install bubblewrap), or accept running LLM-written code unisolated with RLM_SANDBOX_UNSAFE=1 / --unsafe-local")
    }

    /// As root, workers run as an unprivileged uid of their own: file permissions then protect the host, and the
    /// process limit counts only that sandbox's processes.
    static var dropsPrivileges: Bool { geteuid() == 0 }

    /// The plan a probe found for `level` (used for an answer saved by an earlier start).
    static func known(level: IsolationLevel, python: PythonInstallation) -> IsolationPlan {
        IsolationPlan(level: level, python: python, unprivilegedID: dropsPrivileges && level != .none ? probeUID : nil)
    }

    /// The uid the detection probe runs as (nobody); real sandboxes get ids of their own.
    static let probeUID: UInt32 = 65534

    /// Returns the plan with a different unprivileged id (one per sandbox), when ids are in use at all.
    func withUnprivilegedID(_ id: UInt32) -> IsolationPlan {
        var plan = self
        if plan.unprivilegedID != nil { plan = IsolationPlan(level: level, python: python, unprivilegedID: id, tmpSizeMB: tmpSizeMB) }
        return plan
    }

    /// Returns the plan with a private `/tmp` of `megabytes`.
    func withTmpSize(_ megabytes: Int) -> IsolationPlan {
        var plan = self
        plan.tmpSizeMB = megabytes
        return plan
    }

    enum Tools {
        static let bwrap = find("bwrap")
        static let unshare = find("unshare")
        static let setpriv = find("setpriv")
        static let prlimit = find("prlimit")

        static func find(_ name: String) -> String {
            for dir in ["/usr/bin", "/bin", "/usr/local/bin", "/usr/sbin", "/sbin"] {
                let path = "\(dir)/\(name)"
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            return "/usr/bin/\(name)"
        }
    }
}

/// The Python interpreter that runs workers, and the directories it needs to see.
public struct PythonInstallation: Sendable, Equatable, Codable {
    public let executable: String
    public let version: String
    /// Installation prefixes to bind read-only into the sandbox.
    public let prefixes: [String]
    /// Where installed packages live (`site.getsitepackages()`), passed to workers so they need not import `site`.
    public let sitePackages: [String]

    /// Resolves `RLM_PYTHON` (or the first `python3` on PATH) and asks it where it lives; needs Python 3.10+.
    public static func locate(configured: String?, path: String) throws(SandboxError) -> PythonInstallation {
        try inspect(try find(configured: configured, path: path))
    }

    /// The interpreter file `RLM_PYTHON` names, or the first `python3` on PATH (not run yet).
    static func find(configured: String?, path: String) throws(SandboxError) -> String {
        let name = configured ?? "python3"
        let candidates = name.contains("/") ? [name] : path.split(separator: ":").map { "\($0)/\(name)" }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw .isolationUnavailable("cannot find \(name)\(configured == nil ? " on PATH" : ""); install Python 3.10+ or set RLM_PYTHON to its path")
        }
        return found
    }

    /// Runs the interpreter at `found` once to learn its real executable, version and directories.
    static func inspect(_ found: String) throws(SandboxError) -> PythonInstallation {
        let script = "import json,site,sys; print(json.dumps([sys.executable, '%d.%d.%d' % sys.version_info[:3], sys.version_info >= (3, 10), sorted({sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix}), site.getsitepackages()]))"
        guard let output = try? runCapturing([found, "-I", "-c", script]),
              let info = JSONValue.parse(Data(output.utf8))?.arrayValue,
              info.count == 5, let executable = info[0].stringValue, let version = info[1].stringValue,
              let supported = info[2].boolValue, let prefixes = strings(info[3]), let sitePackages = strings(info[4])
        else {
            throw .isolationUnavailable("\(found) did not run as Python; set RLM_PYTHON to a Python 3.10+ interpreter")
        }
        guard supported else { throw .isolationUnavailable("\(found) is Python \(version); workers need 3.10 or newer (set RLM_PYTHON)") }
        // Resolve symlinks so the bind mounts cover the real files.
        let realExecutable = URL(fileURLWithPath: executable).resolvingSymlinksInPath().path
        return PythonInstallation(executable: realExecutable, version: version,
                                  prefixes: prefixes.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path },
                                  sitePackages: sitePackages)
    }

    /// A JSON array of strings as `[String]`; nil when it is not one.
    private static func strings(_ value: JSONValue) -> [String]? {
        guard let items = value.arrayValue else { return nil }
        let texts = items.compactMap(\.stringValue)
        return texts.count == items.count ? texts : nil
    }

    private static func runCapturing(_ argv: [String]) throws -> String {
        let output = try Pipe()
        let process = try ChildProcess.spawn(argv, environment: ["PATH": "/usr/bin:/bin"], fds: [nil, output.writeEnd, nil], cwd: "/")
        close(output.writeEnd)
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(output.readEnd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        close(output.readEnd)
        _ = process.waitForExit()
        return String(decoding: data, as: UTF8.self)
    }
}
