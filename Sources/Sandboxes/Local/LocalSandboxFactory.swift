import Foundation
import RLMCommon

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Creates local sandboxes: finds Python and the strongest isolation once (or reads what an earlier start found),
/// then hands every sandbox a work dir (and, when the server runs as root, a uid) of its own. A server keeps one spare
/// sandbox with a started worker, so a call that needs a new sandbox finds one ready.
public actor LocalSandboxFactory {
    public struct Settings: Sendable {
        public var python: String?
        public var isolation: IsolationLevel?
        public var allowUnsafe: Bool
        public var limits: LocalSandbox.Limits
        /// Live workers across every sandbox of this factory (nil: no server-wide cap).
        public var maxWorkers: Int?

        public init(python: String?, isolation: IsolationLevel?, allowUnsafe: Bool, limits: LocalSandbox.Limits, maxWorkers: Int? = nil) {
            self.python = python
            self.isolation = isolation
            self.allowUnsafe = allowUnsafe
            self.limits = limits
            self.maxWorkers = maxWorkers
        }
    }

    private let settings: Settings
    /// Shared by every sandbox this factory makes.
    public nonisolated let quota: WorkerQuota?
    private let searchPath: String
    private let cache: ProbeCache?
    private var plan: Result<IsolationPlan, SandboxError>?
    private var planning: Task<ResolvedPlan, Never>?
    private var root: WorkRoot?
    /// The worker script copied into the root, readable by sandbox uids wherever the binary is installed.
    private var workerCopy: String?
    /// The script compiled for the interpreter in use (nil: workers run the script itself).
    private var workerBytecode: Data?
    private var created = 0
    /// Set by `warmUp`: keep a spare sandbox with a started worker from then on.
    private var keepsSpare = false
    private var spare: LocalSandbox?
    private var warming: Task<Void, Never>?

    /// `cacheFile`: where probe answers are kept between starts (nil: probe every time).
    public init(settings: Settings, searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
                cacheFile: String? = LocalSandboxFactory.defaultCacheFile) {
        self.settings = settings
        quota = settings.maxWorkers.map(WorkerQuota.init(capacity:))
        self.searchPath = searchPath
        cache = cacheFile.map(ProbeCache.init(path:))
    }

    /// `$XDG_CACHE_HOME/rlm-mcp/probes.json`, else `~/.cache/rlm-mcp/probes.json`.
    public static var defaultCacheFile: String? { ProbeCache.defaultLocation()?.path }

    /// The isolation in force, once it was detected (nil before).
    public var isolation: IsolationLevel? { try? plan?.get().level }

    /// Detects the isolation (or reads the saved answer) and starts a spare sandbox's worker; returns when that
    /// worker is ready or failed. From then on a spare is kept after every hand-over. Failures are left for the first
    /// `makeSandbox` to report.
    public func warmUp() async {
        keepsSpare = true
        if warming == nil { warming = Task { await self.prepareSpare(verify: true) } }
        await warming?.value
    }

    public func makeSandbox() async throws(SandboxError) -> LocalSandbox {
        // The start-up warm-up may still be checking the saved probe answer; its worker is the one this call needs.
        if let warming { await warming.value }
        if let sandbox = spare {
            spare = nil
            replenish()
            return sandbox
        }
        let sandbox = try await newSandbox()
        replenish()
        return sandbox
    }

    /// Deletes the directory that holds every sandbox of this process, and the spare sandbox with its worker.
    public func removeWorkRoot() async {
        keepsSpare = false
        warming?.cancel()
        if let spare { await spare.shutdown() }
        spare = nil
        root?.remove()
        root = nil
        workerCopy = nil
    }

    private func newSandbox() async throws(SandboxError) -> LocalSandbox {
        let plan = try await resolvePlan().plan.get()
        let root = try workRoot()
        created += 1
        let uid: UInt32? = plan.unprivilegedID == nil ? nil : Self.firstSandboxUID + UInt32(created % 1_000_000)
        return try LocalSandbox(id: "s\(created)-\(Self.randomSuffix())", root: root, plan: plan, limits: settings.limits,
                                workerScript: try workerScriptCopy(in: root), uid: uid, quota: quota)
    }

    /// Makes the spare sandbox and starts its worker. With `verify`, waits for the worker: when it cannot start under
    /// a saved probe answer, that answer no longer holds (the machine changed in a way the key does not see), so it
    /// is deleted and the probes run afresh.
    private func prepareSpare(verify: Bool) async {
        guard keepsSpare, spare == nil, let sandbox = try? await newSandbox() else { return }
        // The work root may have been removed (shutdown) while the sandbox was being made.
        guard keepsSpare, spare == nil else { return await sandbox.shutdown() }
        spare = sandbox
        guard verify else {
            await sandbox.startWorker()
            return
        }
        guard !(await sandbox.startWorker()), await resolvePlan().fromCache, !Task.isCancelled else { return }
        cache?.remove()
        plan = nil
        planning = nil
        workerCopy = nil  // its bytecode may be what failed: the fresh probe compiles it again
        if spare === sandbox { spare = nil }
        await sandbox.shutdown()
        guard keepsSpare, spare == nil, let fresh = try? await newSandbox() else { return }
        guard keepsSpare, spare == nil else { return await fresh.shutdown() }
        spare = fresh
        await fresh.startWorker()
    }

    private func replenish() {
        guard keepsSpare else { return }
        Task { await self.prepareSpare(verify: false) }
    }

    private struct ResolvedPlan: Sendable {
        var plan: Result<IsolationPlan, SandboxError>
        var fromCache: Bool
        var workerBytecode: Data? = nil
    }

    /// The isolation plan, found once per process; the probes run on a thread of their own (they wait on child
    /// processes), never on the tasks that answer protocol requests.
    private func resolvePlan() async -> ResolvedPlan {
        let task: Task<ResolvedPlan, Never>
        if let planning {
            task = planning
        } else {
            let settings = settings, searchPath = searchPath, cache = cache
            let probeDir: Result<String, SandboxError>
            do { probeDir = .success(try workRoot() + "/probe") } catch { probeDir = .failure(error) }
            task = Task {
                await Self.onThread { Self.probe(settings: settings, searchPath: searchPath, probeDir: probeDir, cache: cache) }
            }
            planning = task
        }
        let resolved = await task.value
        plan = resolved.plan
        workerBytecode = resolved.workerBytecode
        return resolved
    }

    /// Finds the interpreter and the strongest working isolation, or takes an earlier start's answer for the same key;
    /// then the worker's bytecode for that interpreter.
    private static func probe(settings: Settings, searchPath: String, probeDir: Result<String, SandboxError>, cache: ProbeCache?) -> ResolvedPlan {
        var resolved = findPlan(settings: settings, searchPath: searchPath, probeDir: probeDir, cache: cache)
        // A fresh probe also compiles afresh: bytecode that a saved answer's workers could not start from goes with it.
        if let cache, case .success(let plan) = resolved.plan, let scriptPath = try? WorkerScript.path(), let script = try? WorkerScript.contents() {
            resolved.workerBytecode = WorkerBytecode(directory: (cache.path as NSString).deletingLastPathComponent)
                .load(script: script, scriptPath: scriptPath, python: plan.python, reuse: resolved.fromCache)
        }
        return resolved
    }

    /// The saved answer for these settings, or what the probes find now.
    private static func findPlan(settings: Settings, searchPath: String, probeDir: Result<String, SandboxError>, cache: ProbeCache?) -> ResolvedPlan {
        do {
            let key = try probeKey(settings: settings, searchPath: searchPath)
            if let entry = cache?.load(for: key) {
                return ResolvedPlan(plan: .success(.known(level: entry.level, python: entry.python)), fromCache: true)
            }
            let python = try PythonInstallation.inspect(key.interpreter)
            let directory = try probeDir.get()
            mkdir(directory, 0o755)
            defer { rmdir(directory) }
            let plan = try IsolationPlan.detect(preferred: settings.isolation, allowUnsafe: settings.allowUnsafe, python: python, probeDir: directory)
            // A fall-back to no isolation is not remembered: the next start tries the real thing again.
            if plan.level != .none || settings.isolation == IsolationLevel.none, let stamp = ProbeCache.FileStamp.of(python.executable) {
                cache?.save(.init(key: key, python: python, executableStamp: stamp, level: plan.level))
            }
            return ResolvedPlan(plan: .success(plan), fromCache: false)
        } catch {
            return ResolvedPlan(plan: .failure(error), fromCache: false)
        }
    }

    /// The key a saved probe answer is filed under; its `interpreter` is the one the settings name (not run yet).
    static func probeKey(settings: Settings, searchPath: String) throws(SandboxError) -> ProbeCache.Key {
        let found = try PythonInstallation.find(configured: settings.python, path: searchPath)
        let bwrap = IsolationPlan.Tools.bwrap
        return ProbeCache.Key(interpreter: found, interpreterStamp: .of(found), bubblewrap: bwrap, bubblewrapStamp: .of(bwrap),
                              euid: geteuid(), preferred: settings.isolation?.rawValue, allowUnsafe: settings.allowUnsafe)
    }

    /// Runs blocking work on a thread of its own and resumes with its result.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: body()) }
            thread.start()
        }
    }

    /// The root of this process's sandboxes, made on first use; roots and cgroups that killed servers left behind are
    /// deleted then.
    private func workRoot() throws(SandboxError) -> String {
        if let root { return root.path }
        WorkRoot.removeAbandoned()
        SandboxCgroup.removeAbandoned()
        let made = try WorkRoot.create()
        root = made
        return made.path
    }

    /// A dropped uid must read the worker script, and the binary's resources may sit under a folder it cannot
    /// traverse (a checkout in a mode-700 home or temp folder): hand it a copy in the root it can traverse (its
    /// bytecode when there is some).
    private func workerScriptCopy(in root: String) throws(SandboxError) -> String {
        if let workerCopy { return workerCopy }
        let copy = root + "/" + (workerBytecode == nil ? "rlm_worker.py" : WorkerBytecode.fileName)
        let contents = if let workerBytecode { workerBytecode } else { try WorkerScript.contents() }
        guard FileManager.default.createFile(atPath: copy, contents: contents, attributes: [.posixPermissions: 0o644])
        else { throw .workerFailed("could not copy the worker script into \(root)") }
        workerCopy = copy
        return copy
    }

    /// Sandbox uids start far above ordinary accounts so they never match a real user's files.
    static let firstSandboxUID: UInt32 = 3_000_000

    static func randomSuffix() -> String {
        RandomID.base36()
    }
}
