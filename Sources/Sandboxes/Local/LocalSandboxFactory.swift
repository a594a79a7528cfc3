import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Creates local sandboxes: finds Python and the strongest isolation once, then hands every sandbox a work dir
/// (and, when the server runs as root, a uid) of its own.
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
    private var plan: Result<IsolationPlan, SandboxError>?
    private var root: WorkRoot?
    /// The worker script copied into the root, readable by sandbox uids wherever the binary is installed.
    private var workerCopy: String?
    private var created = 0

    public init(settings: Settings, searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") {
        self.settings = settings
        quota = settings.maxWorkers.map(WorkerQuota.init(capacity:))
        self.searchPath = searchPath
    }

    /// The isolation in force, once the first sandbox was made (nil before).
    public var isolation: IsolationLevel? { try? plan?.get().level }

    public func makeSandbox() throws(SandboxError) -> LocalSandbox {
        let plan = try resolvePlan().get()
        let root = try workRoot()
        created += 1
        let uid: UInt32? = plan.unprivilegedID == nil ? nil : Self.firstSandboxUID + UInt32(created % 1_000_000)
        return try LocalSandbox(id: "s\(created)-\(Self.randomSuffix())", root: root, plan: plan, limits: settings.limits,
                                workerScript: try workerScriptCopy(in: root), uid: uid, quota: quota)
    }

    /// Deletes the directory that holds every sandbox of this process.
    public func removeWorkRoot() {
        root?.remove()
        root = nil
        workerCopy = nil
    }

    /// A dropped uid must read the worker script, and the binary's resources may sit under a folder it cannot
    /// traverse (a checkout in a mode-700 home or temp folder): hand it a copy in the root it can traverse.
    private func workerScriptCopy(in root: String) throws(SandboxError) -> String {
        if let workerCopy { return workerCopy }
        let copy = root + "/rlm_worker.py"
        guard let script = FileManager.default.contents(atPath: try Self.workerScript()),
              FileManager.default.createFile(atPath: copy, contents: script, attributes: [.posixPermissions: 0o644])
        else { throw .workerFailed("could not copy the worker script into \(root)") }
        workerCopy = copy
        return copy
    }

    private func resolvePlan() throws(SandboxError) -> Result<IsolationPlan, SandboxError> {
        if let plan { return plan }
        let resolved: Result<IsolationPlan, SandboxError>
        do {
            let python = try PythonInstallation.locate(configured: settings.python, path: searchPath)
            let probe = try workRoot() + "/probe"
            mkdir(probe, 0o755)
            defer { rmdir(probe) }
            resolved = .success(try IsolationPlan.detect(preferred: settings.isolation, allowUnsafe: settings.allowUnsafe, python: python, probeDir: probe))
        } catch {
            resolved = .failure(error)
        }
        plan = resolved
        return resolved
    }

    /// The root of this process's sandboxes, made on first use; roots that killed servers left behind are deleted then.
    private func workRoot() throws(SandboxError) -> String {
        if let root { return root.path }
        WorkRoot.removeAbandoned()
        SandboxCgroup.removeAbandoned()
        let made = try WorkRoot.create()
        root = made
        return made.path
    }

    /// Sandbox uids start far above ordinary accounts so they never match a real user's files.
    static let firstSandboxUID: UInt32 = 3_000_000

    static func randomSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// The worker script shipped in this module's resources.
    public static func workerScript() throws(SandboxError) -> String {
        guard let path = Bundle.module.path(forResource: "rlm_worker", ofType: "py") else {
            throw .workerFailed("rlm_worker.py is missing next to the rlm-mcp binary (its resource bundle was not installed with it)")
        }
        return path
    }
}
