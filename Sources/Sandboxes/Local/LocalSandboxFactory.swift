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

        public init(python: String?, isolation: IsolationLevel?, allowUnsafe: Bool, limits: LocalSandbox.Limits) {
            self.python = python
            self.isolation = isolation
            self.allowUnsafe = allowUnsafe
            self.limits = limits
        }
    }

    private let settings: Settings
    private let searchPath: String
    private var plan: Result<IsolationPlan, SandboxError>?
    private var root: String?
    private var created = 0

    public init(settings: Settings, searchPath: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") {
        self.settings = settings
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
                                workerScript: try Self.workerScript(), uid: uid)
    }

    /// Deletes the directory that holds every sandbox of this process.
    public func removeWorkRoot() {
        if let root { try? FileManager.default.removeItem(atPath: root) }
        root = nil
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

    private func workRoot() throws(SandboxError) -> String {
        if let root { return root }
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("rlm-mcp-\(getpid())-\(Self.randomSuffix())")
        guard mkdir(path, 0o711) == 0 else { throw .io("could not create \(path): \(String(cString: strerror(errno)))") }
        // The mode is set explicitly: the umask must not take away the traverse bit sandbox users need.
        chmod(path, 0o711)
        root = path
        return path
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
