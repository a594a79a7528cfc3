import Foundation
import Logging
import RLMCommon
import Sandboxes

/// A Daytona sandbox behind the `Sandbox` protocol: created on first use (or early, with `prepare()`), the worker
/// script uploaded once, one worker per namespace as an async session command, shell through `process/execute`,
/// files through the toolbox files API. Nothing runs on this machine.
public actor DaytonaSandbox: Sandbox {
    /// The remote sandbox once it is started.
    struct Remote: Sendable {
        let info: DaytonaSandboxInfo
        let toolbox: String
        let workDir: String
        var workerPath: String { workDir + "/" + DaytonaSandbox.workerFileName }
    }

    static let workerFileName = ".rlm_worker.py"

    let client: DaytonaClient
    let labels: [String: String]
    private let workerScript: Data
    private let python: String
    private var remote: Task<Remote, Error>?
    private var remoteInfo: DaytonaSandboxInfo?
    /// Weakly tied to the sandbox, whose start method it calls: the sandbox owns the pool, not the other way round.
    private lazy var workers = WorkerPool { [weak self] in
        guard let self else { throw SandboxError.workerFailed("the sandbox was shut down") }
        return try await self.launchWorker()
    }
    private var nextSession = 0
    private var closed = false
    private var lastState = "not created yet"

    /// Whether to take on a started sandbox that already carries `labels` (another replica's, for the same workspace).
    let adoptExisting: Bool

    public init(client: DaytonaClient, labels: [String: String], workerScript: Data, python: String = "python3", adoptExisting: Bool = false) {
        self.adoptExisting = adoptExisting
        self.client = client
        self.labels = labels
        self.workerScript = workerScript
        self.python = python
    }

    // MARK: - The remote sandbox

    /// Starts creating the remote sandbox now (e.g. while the first LLM call runs) without waiting for it.
    public func prepare() {
        _ = remoteTask()
    }

    private func remoteTask() -> Task<Remote, Error> {
        if let remote { return remote }
        lastState = "creating"
        let client = client, labels = labels, script = workerScript, adopt = adoptExisting
        let task = Task {
            if adopt, let remote = try await Self.adopt(client: client, labels: labels, workerScript: script) { return remote }
            return try await Self.create(client: client, labels: labels, workerScript: script)
        }
        remote = task
        return task
    }

    /// Create, wait until started, find the work dir and upload the worker; a half-made sandbox is deleted.
    private static func create(client: DaytonaClient, labels: [String: String], workerScript: Data) async throws -> Remote {
        let created = try await client.createSandbox(labels: labels)
        do {
            return try await attach(client: client, to: created, workerScript: workerScript)
        } catch {
            try? await client.deleteSandbox(created.id)
            throw error
        }
    }

    /// The running sandbox another replica made for this workspace, if there is one; nil means create one.
    private static func adopt(client: DaytonaClient, labels: [String: String], workerScript: Data) async throws -> Remote? {
        let candidates = try await client.listSandboxes(labels: labels).filter { ["started", "starting", "creating"].contains($0.state ?? "") }
        guard let existing = candidates.first else { return nil }
        client.logger.info("adopting the workspace's Daytona sandbox", metadata: ["sandbox": "\(existing.id)"])
        return try await attach(client: client, to: existing, workerScript: workerScript)
    }

    /// Waits until the sandbox runs, finds its work dir and uploads the worker (harmless when it is already there).
    private static func attach(client: DaytonaClient, to sandbox: DaytonaSandboxInfo, workerScript: Data) async throws -> Remote {
        let info = try await client.waitUntilStarted(sandbox, timeout: client.settings.createTimeout)
        let toolbox = try await client.toolboxBase(for: info)
        // Relative upload paths resolve against the work dir, so both requests can go at once.
        async let upload: Void = client.uploadFile(toolbox: toolbox, path: workerFileName, data: workerScript)
        async let dir = client.workDir(toolbox: toolbox)
        let workDir = try await dir
        try await upload
        client.logger.info("Daytona sandbox started", metadata: ["sandbox": "\(info.id)", "target": "\(info.target ?? "?")"])
        return Remote(info: info, toolbox: toolbox, workDir: workDir.hasSuffix("/") && workDir.count > 1 ? String(workDir.dropLast()) : workDir)
    }

    /// The started sandbox; a failed creation is reported and forgotten, so the next call tries again.
    private func started() async throws(SandboxError) -> Remote {
        guard !closed else { throw .workerFailed("the sandbox was shut down") }
        let task = remoteTask()
        do {
            let remote = try await task.value
            remoteInfo = remote.info
            if lastState == "creating" { lastState = "started" }
            return remote
        } catch {
            if self.remote == task { self.remote = nil }
            lastState = "creation failed"
            if error is CancellationError { throw .workerFailed("creating the Daytona sandbox was cancelled") }
            throw .workerFailed("could not create a Daytona sandbox: \(error)")
        }
    }

    /// Turns a toolbox failure into a `SandboxError`. When the sandbox itself is gone or broken (`error`, `destroyed`,
    /// stopped), it is deleted and forgotten, and the error says that the next call starts a new one.
    private func explain(_ error: any Error, doing what: String) async -> any Error {
        if error is CancellationError { return error }
        // Path and size errors are the caller's; a dead worker may be the sandbox's fault, so that is checked too.
        if let sandboxError = error as? SandboxError, !sandboxError.isWorkerFailure { return sandboxError }
        let original = error as? SandboxError ?? SandboxError.io("\(what) failed: \(error)")
        guard let info = remoteInfo else { return original }
        let current: DaytonaSandboxInfo?
        do {
            current = try await client.sandbox(info.id)
        } catch let lookup as DaytonaError where lookup.status == 404 {
            current = nil  // gone
        } catch {
            return original  // cannot tell: keep the sandbox
        }
        if let current, current.state == "started" { return original }
        let state = current?.state ?? "gone"
        let reason = current?.errorReason.map { " (\($0))" } ?? ""
        if remoteInfo?.id == info.id { await discardRemote(state: state) }  // not if a concurrent call replaced it already
        return SandboxError.workerFailed("the Daytona sandbox \(info.id) is \(state)\(reason), so \(what) failed; its files and variables are lost. "
            + "The next call creates a new sandbox")
    }

    private func discardRemote(state: String) async {
        let id = remoteInfo?.id
        remote = nil
        remoteInfo = nil
        lastState = state
        await workers.clear()
        if let id { try? await client.deleteSandbox(id) }
    }

    // MARK: - Code

    public func execute(_ request: ExecRequest) async throws -> ExecResult {
        do {
            return try await executeOnce(request)
        } catch SandboxError.workerLost(.goneBeforeFirstFrame) {
            // A worker (often the warm spare) died between its ready frame and our code: the code never ran, so it
            // is safe to run it on a new worker once.
            client.logger.notice("worker was gone before the code reached it; starting another", metadata: ["sandbox": "\(remoteInfo?.id ?? "?")"])
            return try await executeOnce(request)
        }
    }

    private func executeOnce(_ request: ExecRequest) async throws -> ExecResult {
        do {
            return try await workers.execute(request)
        } catch {
            if error is CancellationError { throw error }
            throw await explain(error, doing: "running the code")
        }
    }

    public func resetNamespace(_ name: String) async {
        await workers.reset(name)
    }

    /// Loads a file of the work dir into a variable of a named namespace (the RLM `context`), as `LocalSandbox` does.
    public func loadVariable(_ variable: String, fromFile path: String, kind: String, namespace: String, timeout: Duration) async throws -> LoadedVariable {
        let remote = try await started()
        let relative = try SandboxPath.relative(path, root: remote.workDir)
        let worker = try await workers.worker(named: namespace)
        return try await worker.loadContext(path: relative, kind: kind, name: variable, timeout: timeout)
    }

    /// Starts one worker in the (started) sandbox, for the pool.
    private func launchWorker() async throws -> WorkerChannel {
        let remote = try await started()
        do {
            return try await startWorker(remote)
        } catch {
            throw await explain(error, doing: "starting the Python worker")
        }
    }

    private func startWorker(_ remote: Remote) async throws -> WorkerChannel {
        nextSession += 1
        let session = "rlm-worker-\(nextSession)-\(RandomID.base36())"
        let dir = ShellWord.quoted(remote.workDir)
        let commandLine = "cd \(dir) && \(python) -I -S -B \(ShellWord.quoted(remote.workerPath)) --in-fd 0 --out-fd 1 --workdir \(dir)"
        let worker = try await DaytonaWorkerTransport.start(client: client, toolbox: remote.toolbox, session: session, commandLine: commandLine)
        return try await WorkerChannel.start(transport: worker.transport, frames: worker.frames, readyTimeout: .seconds(60),
                                             hint: "the sandbox's snapshot needs python3 >= 3.10 (DAYTONA_SNAPSHOT)", backend: "daytona")
    }

    // MARK: - Files

    public func uploadFile(path: String, data: Data) async throws(SandboxError) -> Int {
        let remote = try await started()
        let relative = try SandboxPath.relative(path, root: remote.workDir)
        guard relative != "." else { throw .invalidPath(path, reason: "it is the work dir itself; name a file") }
        do {
            try await client.uploadFile(toolbox: remote.toolbox, path: remote.workDir + "/" + relative, data: data)
        } catch {
            throw await sandboxError(error, doing: "uploading \(path)")
        }
        return data.count
    }

    public func removeFile(path: String) async throws(SandboxError) {
        let remote = try await started()
        let relative = try SandboxPath.relative(path, root: remote.workDir)
        guard relative != "." else { throw .invalidPath(path, reason: "it is the work dir itself; name a file") }
        do {
            try await client.deleteFile(toolbox: remote.toolbox, path: remote.workDir + "/" + relative, recursive: false)
        } catch {
            throw await sandboxError(error, doing: "deleting \(path)")
        }
    }

    public func downloadFile(path: String, maxBytes: Int) async throws(SandboxError) -> Data {
        let remote = try await started()
        let relative = try SandboxPath.relative(path, root: remote.workDir)
        let full = remote.workDir + "/" + relative
        do {
            return try await client.downloadFile(toolbox: remote.toolbox, path: full, maxBytes: maxBytes)
        } catch let error as DaytonaError {
            if error.status == 404 { throw .notFound(path) }
            if case .tooLarge = error, let entries = try? await client.listFiles(toolbox: remote.toolbox, path: (full as NSString).deletingLastPathComponent),
               let entry = entries.first(where: { $0.name == (full as NSString).lastPathComponent }) {
                throw .tooLarge(path, size: entry.size, limit: maxBytes)
            }
            throw await sandboxError(error, doing: "downloading \(path)")
        } catch {
            throw await sandboxError(error, doing: "downloading \(path)")
        }
    }

    public func listFiles(path: String, recursive: Bool) async throws(SandboxError) -> [FileEntry] {
        let remote = try await started()
        let relative = try SandboxPath.relative(path, root: remote.workDir)
        var entries: [FileEntry] = []
        var pending = [relative]
        while let directory = pending.popLast(), entries.count < 10_000 {
            let full = directory == "." ? remote.workDir : remote.workDir + "/" + directory
            let listed: [DaytonaFileInfo]
            do {
                listed = try await client.listFiles(toolbox: remote.toolbox, path: full)
            } catch let error as DaytonaError where error.status == 404 || error.status == 400 {
                throw .notFound(directory == relative ? path : directory)
            } catch {
                throw await sandboxError(error, doing: "listing \(path)")
            }
            for file in listed.sorted(by: { $0.name < $1.name }) {
                if directory == ".", file.name == Self.workerFileName { continue }
                let childPath = directory == "." ? file.name : directory + "/" + file.name
                entries.append(FileEntry(name: file.name, path: childPath, isDirectory: file.isDir, size: file.size,
                                         modified: Self.seconds(file.modifiedAt)))
                if recursive, file.isDir { pending.append(childPath) }
            }
        }
        return entries
    }

    private func sandboxError(_ error: any Error, doing what: String) async -> SandboxError {
        let explained = await explain(error, doing: what)
        return explained as? SandboxError ?? .io("\(what) was cancelled")
    }

    // MARK: - Shell

    public func shell(command: String, cwd: String?, timeout: Duration) async throws -> ShellResult {
        let remote = try await started()
        let relative = try SandboxPath.relative(cwd ?? ".", root: remote.workDir)
        let started = ContinuousClock.now
        do {
            let result = try await client.execute(toolbox: remote.toolbox, command: command,
                                                  cwd: relative == "." ? remote.workDir : remote.workDir + "/" + relative, timeout: timeout)
            var output = result.result
            let truncated = output.utf8.count > 1_000_000
            if truncated { output = String(output.prefix(1_000_000)) + "\n[output truncated]" }
            return ShellResult(stdout: output, stderr: "", exitCode: Int32(truncatingIfNeeded: result.exitCode), timedOut: false,
                               truncated: truncated, durationMS: (ContinuousClock.now - started).milliseconds)
        } catch let error as DaytonaError where error.status == 408 {
            return ShellResult(stdout: "", stderr: "[timed out after \(timeout.components.seconds) s; the command was killed]", exitCode: 124,
                               timedOut: true, truncated: false, durationMS: (ContinuousClock.now - started).milliseconds)
        } catch {
            throw await explain(error, doing: "running the shell command")
        }
    }

    // MARK: - Lifecycle

    public func status() async -> SandboxStatus {
        var details: [String: String] = [:]
        if let info = remoteInfo {
            details["sandbox_id"] = info.id
            details["region"] = info.target ?? client.settings.target ?? "default"
        }
        return SandboxStatus(backend: "daytona", state: closed ? "closed" : lastState, isolation: "remote Daytona sandbox",
                             namespaces: await workers.namespaces, workers: await workers.workerCount, details: details)
    }

    /// True once `shutdown()` ran.
    public var isClosed: Bool { closed }

    /// The sandbox's id at Daytona, once created.
    public var sandboxID: String? { remoteInfo?.id }

    /// Deletes the remote sandbox (waiting for a creation in progress so nothing is left behind).
    public func shutdown() async {
        await close(deletingRemote: true)
    }

    /// Stops this server's workers but leaves the sandbox running for the other replicas serving its workspace; Daytona's
    /// auto-stop and auto-delete intervals (or `rlm-mcp cleanup`) retire it.
    public func detach() async {
        await close(deletingRemote: false)
    }

    private func close(deletingRemote: Bool) async {
        guard !closed else { return }
        closed = true
        let creation = remote
        remote = nil
        let info: DaytonaSandboxInfo? = if let creation { try? await creation.value.info } else { nil }
        if deletingRemote, let info {
            do {
                try await client.deleteSandbox(info.id)
            } catch {
                client.logger.warning("could not delete Daytona sandbox; `rlm-mcp cleanup` removes leftovers",
                                      metadata: ["sandbox": "\(info.id)", "error": "\(error)"])
            }
        }
        lastState = deletingRemote ? "deleted" : "detached"
        await workers.shutdown()
    }

    // MARK: - Paths

    static func seconds(_ iso: String?) -> Double {
        guard let iso else { return 0 }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: iso) { return date.timeIntervalSince1970 }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: iso)?.timeIntervalSince1970 ?? 0
    }
}

extension SandboxError {
    var isWorkerFailure: Bool {
        switch self {
        case .workerFailed, .workerLost: true
        default: false
        }
    }
}
