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

        public init(memoryMB: Int) { self.memoryMB = memoryMB }
    }

    public nonisolated let id: String
    private let plan: IsolationPlan
    private let limits: Limits
    private let workDir: String
    private let workerScript: String
    private let files: ContainedFiles
    private var namespaces: [String: WorkerChannel] = [:]
    private var spare: Task<WorkerChannel, Error>?
    private var closed = false

    /// Creates the working directory `root/id`; workers start on first use.
    public init(id: String, root: String, plan: IsolationPlan, limits: Limits, workerScript: String, uid: UInt32?) throws(SandboxError) {
        self.id = id
        self.plan = uid.map { plan.withUnprivilegedID($0) } ?? plan
        self.limits = limits
        self.workerScript = workerScript
        workDir = (root as NSString).appendingPathComponent(id)
        guard mkdir(workDir, 0o700) == 0 else {
            throw .io("could not create the sandbox work dir \(workDir): \(String(cString: strerror(errno)))")
        }
        if let owner = self.plan.unprivilegedID { chown(workDir, owner, owner) }
        files = ContainedFiles(root: workDir, visibleRoot: self.plan.visibleWorkDir(host: workDir), owner: self.plan.unprivilegedID)
    }

    // MARK: - Code

    public func execute(_ request: ExecRequest) async throws -> ExecResult {
        var variables: Any?
        if let data = request.variablesJSON {
            guard let object = try? JSONSerialization.jsonObject(with: data), object is [String: Any] else {
                throw SandboxError.io("variables must be a JSON object")
            }
            variables = object
        }
        let worker: WorkerChannel
        switch request.namespace {
        case .fresh:
            worker = try await takeWorker()
        case let .named(name):
            worker = try await namedWorker(name)
        }
        defer {
            if request.namespace == .fresh { Task { await worker.terminate() } }
        }
        do {
            let result = try await worker.execute(code: request.code, variables: variables, maxOutputChars: request.maxOutputChars,
                                                  timeout: request.timeout, onSubCall: request.onSubCall)
            await forgetIfDead(worker, in: request.namespace)
            return result
        } catch {
            await forgetIfDead(worker, in: request.namespace)
            throw error
        }
    }

    /// A named namespace whose worker died (timeout, crash, cancellation) starts afresh on its next use.
    private func forgetIfDead(_ worker: WorkerChannel, in namespace: ExecRequest.Namespace) async {
        if case let .named(name) = namespace, !(await worker.isAlive), namespaces[name] === worker {
            namespaces[name] = nil
        }
    }

    public func resetNamespace(_ name: String) async {
        await namespaces.removeValue(forKey: name)?.terminate()
    }

    /// Loads a file of the work dir into a variable of a named namespace (the RLM `context`).
    public func loadVariable(_ variable: String, fromFile path: String, kind: String, namespace: String, timeout: Duration) async throws -> LoadedVariable {
        let relative = try files.relative(path)
        let worker = try await namedWorker(namespace)
        return try await worker.loadContext(path: relative, kind: kind, name: variable, timeout: timeout)
    }

    /// The live worker of a named namespace, starting one when it has none.
    private func namedWorker(_ name: String) async throws(SandboxError) -> WorkerChannel {
        if let existing = namespaces[name], await existing.isAlive { return existing }
        let worker = try await takeWorker()
        namespaces[name] = worker
        return worker
    }

    private func takeWorker() async throws(SandboxError) -> WorkerChannel {
        guard !closed else { throw .workerFailed("the sandbox was shut down") }
        if let spare {
            self.spare = nil
            if let worker = try? await spare.value, await worker.isAlive {
                prepareSpare()
                return worker
            }
        }
        let worker = try await startWorker()
        prepareSpare()
        return worker
    }

    /// Starts the next worker in the background while the current call runs.
    private func prepareSpare() {
        guard spare == nil, !closed else { return }
        spare = Task { try await self.startWorker() }
    }

    private func startWorker() async throws(SandboxError) -> WorkerChannel {
        let visibleDir = plan.visibleWorkDir(host: workDir)
        let program = [
            plan.python.executable, "-I", "-S", "-B", plan.visibleWorkerScript(host: workerScript),
            "--in-fd", "3", "--out-fd", "4", "--workdir", visibleDir,
            "--memory-mb", String(limits.memoryMB), "--cpu-s", String(limits.cpuSeconds),
            "--fsize-mb", String(limits.fileSizeMB), "--nofile", String(limits.openFiles),
            "--nproc", String(processLimit()),
        ]
        return try await WorkerChannel.start(
            argv: plan.command(program, workDir: workDir, workerScript: workerScript, cwd: visibleDir),
            environment: workerEnvironment,
            cwd: workDir,
            readyTimeout: .seconds(20)
        )
    }

    /// Nothing from the server's environment reaches the code: no keys, no tokens.
    private var workerEnvironment: [String: String] {
        let home = plan.visibleWorkDir(host: workDir)
        return ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "TMPDIR": plan.level == .bubblewrap ? "/tmp" : home]
    }

    /// RLIMIT_NPROC counts every process of the user: with a uid of our own that is just this sandbox; otherwise
    /// allow what the user already runs plus the sandbox's share.
    private func processLimit() -> Int {
        plan.unprivilegedID != nil ? limits.processes : Self.processCount(of: geteuid()) + limits.processes
    }

    private static func processCount(of uid: uid_t) -> Int {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return 0 }
        return entries.filter { $0.allSatisfy(\.isNumber) }.reduce(0) { count, pid in
            var info = stat()
            return stat("/proc/\(pid)", &info) == 0 && info.st_uid == uid ? count + 1 : count
        }
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
        try files.list(path, recursive: recursive).entries
    }

    /// Where a relative path lives for code in the sandbox (e.g. /work/data.csv).
    public nonisolated func visiblePath(_ relative: String) -> String {
        (plan.visibleWorkDir(host: workDir) as NSString).appendingPathComponent(relative)
    }

    // MARK: - Shell

    public func shell(command: String, cwd: String?, timeout: Duration) async throws -> ShellResult {
        guard !closed else { throw SandboxError.workerFailed("the sandbox was shut down") }
        let relative = try files.relative(cwd ?? ".")
        let visible = relative == "." ? plan.visibleWorkDir(host: workDir) : visiblePath(relative)
        let hostCwd = relative == "." ? workDir : (workDir as NSString).appendingPathComponent(relative)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: hostCwd, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SandboxError.notFound(cwd ?? ".")
        }
        let program = [IsolationPlan.Tools.prlimit, "--as=\(limits.memoryMB * 1024 * 1024)", "--cpu=\(limits.cpuSeconds)",
                       "--fsize=\(limits.fileSizeMB * 1024 * 1024)", "--nofile=\(limits.openFiles)", "--nproc=\(processLimit())",
                       "--", "/bin/bash", "-lc", command]
        return try await ShellRunner.run(
            plan.command(program, workDir: workDir, workerScript: workerScript, cwd: visible),
            environment: workerEnvironment, cwd: hostCwd, timeout: timeout
        )
    }

    // MARK: - Lifecycle

    public func status() async -> SandboxStatus {
        var live = 0
        for worker in namespaces.values where await worker.isAlive { live += 1 }
        return SandboxStatus(backend: "local", state: closed ? "closed" : "running", isolation: plan.level.rawValue,
                             namespaces: namespaces.keys.sorted(), workers: live + (spare == nil ? 0 : 1))
    }

    public func shutdown() async {
        guard !closed else { return }
        closed = true
        for worker in namespaces.values { await worker.terminate() }
        namespaces.removeAll()
        if let spare, let worker = try? await spare.value { await worker.terminate() }
        spare = nil
        try? FileManager.default.removeItem(atPath: workDir)
    }
}
