import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The embedded sandbox: a private working directory on this machine and one isolated Python worker per namespace,
/// with a warm spare worker so a fresh namespace costs a hand-over rather than an interpreter start.
public actor LocalSandbox: Sandbox {
    /// Resource limits applied to every worker and shell command.
    public struct Limits: Sendable {
        public var memoryMB: Int
        public var cpuSeconds = 3600
        public var fileSizeMB = 1024
        public var openFiles = 256
        /// Processes the sandbox's code may run at once, beyond what its user already runs.
        public var processes = 128
        public var maxDownloadBytes = 50 * 1024 * 1024
        /// Memory of all the sandbox's processes and its tmpfs together, where a cgroup can hold it.
        public var totalMemoryMB = 4096
        /// Size of each worker's private `/tmp` (bubblewrap).
        public var tmpMB = 256
        /// Named namespaces (live workers) one sandbox keeps at once.
        public var maxNamedWorkers = 8
        /// Size of the sandbox's work dir (`/work`): a tmpfs of this size where the server may mount, else the cap
        /// on any one file.
        public var diskMB = 1024
        /// Keep a started worker ready for the next fresh namespace (a server); off for a sandbox that serves one
        /// run and is deleted (`rlm-mcp run`), where the spare would cost a process and its memory for nothing.
        public var keepsWarmSpare = true

        public init(memoryMB: Int) { self.memoryMB = memoryMB }
    }

    public nonisolated let id: String
    private let plan: IsolationPlan
    private let limits: Limits
    private let workDir: String
    private let workerScript: String
    private let files: ContainedFiles
    private let launcher: LocalWorkerLauncher
    private let workers: WorkerPool
    /// Nil where the machine offers no writable cgroup hierarchy (then only the per-process rlimits hold).
    private let cgroup: SandboxCgroup?
    /// True when the work dir is a tmpfs of `limits.diskMB` (see `WorkDirQuota`).
    private let diskQuota: Bool
    private var closed = false

    /// Creates the working directory `root/id`; workers start on first use.
    public init(id: String, root: String, plan: IsolationPlan, limits: Limits, workerScript: String, uid: UInt32?,
                quota: WorkerQuota? = nil) throws(SandboxError) {
        self.id = id
        self.plan = (uid.map { plan.withUnprivilegedID($0) } ?? plan).withTmpSize(limits.tmpMB)
        // Where the work dir cannot be a sized mount, no single file may outgrow the disk quota either.
        var limits = limits
        limits.fileSizeMB = min(limits.fileSizeMB, limits.diskMB)
        self.limits = limits
        self.workerScript = workerScript
        workDir = (root as NSString).appendingPathComponent(id)
        guard mkdir(workDir, 0o700) == 0 else {
            throw .io("could not create the sandbox work dir \(workDir): \(String(cString: strerror(errno)))")
        }
        if let owner = self.plan.unprivilegedID { chown(workDir, owner, owner) }
        diskQuota = WorkDirQuota.mount(at: workDir, megabytes: limits.diskMB, owner: self.plan.unprivilegedID)
        // Tasks, not processes, count against pids.max: leave room for the threads an interpreter starts.
        let cgroup = SandboxCgroup.make(name: id, memoryMB: limits.totalMemoryMB, processes: limits.processes * 2)
        self.cgroup = cgroup
        files = ContainedFiles(root: workDir, visibleRoot: self.plan.visibleWorkDir(host: workDir), owner: self.plan.unprivilegedID)
        let launcher = LocalWorkerLauncher(plan: self.plan, limits: limits, workDir: workDir, workerScript: workerScript, cgroup: cgroup)
        self.launcher = launcher
        workers = WorkerPool(start: { try await launcher.start() }, quota: quota, maxNamed: limits.maxNamedWorkers,
                             keepsSpare: limits.keepsWarmSpare)
    }

    // MARK: - Code

    public func execute(_ request: ExecRequest) async throws -> ExecResult {
        try await workers.execute(request)
    }

    /// Starts the worker the first call will use and waits until it is ready; false when it could not start.
    @discardableResult
    func startWorker() async -> Bool {
        await workers.warm()
    }

    public func resetNamespace(_ name: String) async {
        await workers.reset(name)
    }

    /// Loads a file of the work dir into a variable of a named namespace (the RLM `context`).
    public func loadVariable(_ variable: String, fromFile path: String, kind: String, namespace: String, timeout: Duration) async throws -> LoadedVariable {
        let relative = try files.relative(path)
        let worker = try await workers.worker(named: namespace)
        return try await worker.loadContext(path: relative, kind: kind, name: variable, timeout: timeout)
    }

    // MARK: - Files

    public func uploadFile(path: String, data: Data) async throws(SandboxError) -> Int {
        try files.write(path, data: data)
        return data.count
    }

    public func removeFile(path: String) async throws(SandboxError) {
        try files.remove(path)
    }

    public func downloadFile(path: String, maxBytes: Int) async throws(SandboxError) -> Data {
        try files.read(path, maxBytes: min(maxBytes, limits.maxDownloadBytes))
    }

    public func listFiles(path: String, recursive: Bool) async throws(SandboxError) -> [FileEntry] {
        try files.list(path, recursive: recursive)
    }

    /// Where a relative path lives for code in the sandbox (e.g. /work/data.csv).
    public nonisolated func visiblePath(_ relative: String) -> String {
        (plan.visibleWorkDir(host: workDir) as NSString).appendingPathComponent(relative)
    }

    // MARK: - Shell

    public func shell(command: String, cwd: String?, timeout: Duration) async throws -> ShellResult {
        guard !closed else { throw SandboxError.workerFailed("the sandbox was shut down") }
        // Resolved beneath the work dir like every other path: a link in the work dir must not make the server
        // (as root) reveal whether a host directory exists.
        let relative = try files.directory(cwd ?? ".")
        let visible = relative == "." ? plan.visibleWorkDir(host: workDir) : visiblePath(relative)
        let hostCwd = relative == "." ? workDir : (workDir as NSString).appendingPathComponent(relative)
        let program = [IsolationPlan.Tools.prlimit, "--as=\(limits.memoryMB * 1024 * 1024)", "--cpu=\(limits.cpuSeconds)",
                       "--fsize=\(limits.fileSizeMB * 1024 * 1024)", "--nofile=\(limits.openFiles)", "--nproc=\(launcher.processLimit())",
                       "--", "/bin/bash", "-lc", command]
        return try await ShellRunner.run(
            plan.command(program, workDir: workDir, workerScript: workerScript, cwd: visible),
            environment: launcher.environment, cwd: hostCwd, timeout: timeout, cgroup: cgroup
        )
    }

    // MARK: - Lifecycle

    public func status() async -> SandboxStatus {
        SandboxStatus(backend: "local", state: closed ? "closed" : "running", isolation: plan.level.rawValue,
                      namespaces: await workers.namespaces, workers: await workers.workerCount,
                      details: ["cgroup": cgroup.map { "\($0.hierarchy.name): \(limits.totalMemoryMB) MB, \(limits.processes * 2) tasks" }
                          ?? "none (per-process limits only; needs root and a writable cgroup hierarchy)",
                                "disk": diskQuota ? "/work: \(limits.diskMB) MB (tmpfs)"
                                    : "\(limits.diskMB) MB per file only (a sized /work needs a server that may mount: root)"])
    }

    public func shutdown() async {
        guard !closed else { return }
        closed = true
        await workers.shutdown()
        if diskQuota { WorkDirQuota.unmount(workDir) }
        try? FileManager.default.removeItem(atPath: workDir)
        if let cgroup {
            // The group can go once the killed workers have exited; that takes a moment.
            Task {
                for _ in 0..<50 where !cgroup.remove() {
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
        }
    }
}

/// Starts the isolated Python workers of one local sandbox; holds only what a start needs, so the worker pool can
/// keep it without keeping the sandbox.
struct LocalWorkerLauncher: Sendable {
    let plan: IsolationPlan
    let limits: LocalSandbox.Limits
    let workDir: String
    let workerScript: String
    let cgroup: SandboxCgroup?

    func start() async throws(SandboxError) -> WorkerChannel {
        let visibleDir = plan.visibleWorkDir(host: workDir)
        let program = [
            plan.python.executable, "-I", "-S", "-B", plan.visibleWorkerScript(host: workerScript),
            "--in-fd", "3", "--out-fd", "4", "--workdir", visibleDir,
            "--memory-mb", String(limits.memoryMB), "--cpu-s", String(limits.cpuSeconds),
            "--fsize-mb", String(limits.fileSizeMB), "--nofile", String(limits.openFiles),
            "--nproc", String(processLimit()),
            // Known from the probe, so the worker need not import `site` to find installed packages.
            "--site-dirs", plan.python.sitePackages.joined(separator: ":"),
            // bubblewrap already kills the sandbox with the server; elsewhere the worker asks the kernel itself.
            "--die-with-parent", plan.level == .bubblewrap ? "0" : "1",
        ]
        return try await WorkerChannel.start(
            argv: plan.command(program, workDir: workDir, workerScript: workerScript, cwd: visibleDir),
            environment: environment,
            cwd: workDir,
            cgroup: cgroup,
            readyTimeout: .seconds(20)
        )
    }

    /// Nothing from the server's environment reaches the code: no keys, no tokens.
    var environment: [String: String] {
        let home = plan.visibleWorkDir(host: workDir)
        return ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "TMPDIR": plan.level == .bubblewrap ? "/tmp" : home]
    }

    /// RLIMIT_NPROC counts every process of the user: with a uid of our own that is just this sandbox; otherwise
    /// allow what the user already runs plus the sandbox's share.
    func processLimit() -> Int {
        plan.unprivilegedID != nil ? limits.processes : Self.processCount(of: geteuid()) + limits.processes
    }

    private static func processCount(of uid: uid_t) -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        return entries.filter { $0.allSatisfy(\.isNumber) }.reduce(0) { count, pid in
            var info = stat()
            return stat("/proc/\(pid)", &info) == 0 && info.st_uid == uid ? count + 1 : count
        }
    }
}
