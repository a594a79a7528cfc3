import Foundation
import Testing
@testable import Sandboxes

/// Saved probe answers: used when the key matches, harmless when corrupt, foreign, stale or wrong.
@Suite(.serialized) struct ProbeCacheTests {
    static let settings = LocalSandboxFactory.Settings(python: nil, isolation: nil, allowUnsafe: false, limits: .init(memoryMB: 1024))
    static let searchPath = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"

    /// A fresh directory for one test's cache file, removed afterwards.
    private func withCacheFile(_ body: (String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlm-probe-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(directory + "/rlm-mcp/probes.json")
    }

    private func entry(python: PythonInstallation, level: IsolationLevel = .bubblewrap) throws -> ProbeCache.Entry {
        let key = try LocalSandboxFactory.probeKey(settings: Self.settings, searchPath: Self.searchPath)
        return ProbeCache.Entry(key: key, python: python, executableStamp: try #require(ProbeCache.FileStamp.of(python.executable)), level: level)
    }

    private func run(_ sandbox: LocalSandbox, _ code: String) async throws -> ExecResult {
        try await sandbox.execute(ExecRequest(code: code, namespace: .named("main"), timeout: .seconds(20),
                                              maxOutputChars: 20_000, onSubCall: SubCall.unavailable))
    }

    @Test func anEntryIsUsedOnlyForItsOwnKeyAndInterpreter() async throws {
        try await withCacheFile { path in
            let cache = ProbeCache(path: path)
            let python = PythonInstallation(executable: "/bin/sh", version: "3.99.0", prefixes: ["/usr"], sitePackages: [])
            let saved = try entry(python: python)
            cache.save(saved)
            #expect(cache.load(for: saved.key) == saved)
            var other = saved.key
            other.allowUnsafe.toggle()
            #expect(cache.load(for: other) == nil)
            other = saved.key
            other.interpreterStamp?.mtimeNanoseconds += 1
            #expect(cache.load(for: other) == nil)
            // The interpreter the entry names was replaced since: the entry is stale.
            var moved = saved
            moved.executableStamp.size += 1
            cache.save(moved)
            #expect(cache.load(for: saved.key) == nil)
        }
    }

    @Test func theCacheLivesInTheUsersCacheFolderEvenWithABareEnvironment() {
        let account: () -> String? = { "/home/account" }
        #expect(ProbeCache.defaultLocation(environment: ["XDG_CACHE_HOME": "/xdg", "HOME": "/home/env"], accountHome: account)?.path == "/xdg/rlm-mcp/probes.json")
        #expect(ProbeCache.defaultLocation(environment: ["HOME": "/home/env"], accountHome: account)?.path == "/home/env/.cache/rlm-mcp/probes.json")
        // MCP clients may start servers with no HOME at all: the password database still knows the user's home.
        #expect(ProbeCache.defaultLocation(environment: [:], accountHome: account)?.path == "/home/account/.cache/rlm-mcp/probes.json")
        #expect(ProbeCache.defaultLocation(environment: ["XDG_CACHE_HOME": "relative"], accountHome: { nil }) == nil)
        #expect(ProbeCache.accountHome()?.hasPrefix("/") == true)
    }

    @Test func corruptForeignOrOpenFilesAreIgnored() async throws {
        try await withCacheFile { path in
            let cache = ProbeCache(path: path)
            let saved = try entry(python: PythonInstallation(executable: "/bin/sh", version: "3.99.0", prefixes: ["/usr"], sitePackages: []))
            cache.save(saved)
            #expect(chmod(path, 0o666) == 0)
            #expect(cache.load(for: saved.key) == nil, "a file others may write must not decide the isolation")
            #expect(chmod(path, 0o600) == 0)
            #expect(cache.load(for: saved.key) == saved)
            try Data("{\"key\": tru".utf8).write(to: URL(fileURLWithPath: path))
            #expect(cache.load(for: saved.key) == nil)
            // A link is not followed: the answer must be this user's own file.
            let target = path + ".target"
            cache.save(saved)
            #expect(rename(path, target) == 0)
            #expect(symlink(target, path) == 0)
            #expect(cache.load(for: saved.key) == nil)
        }
    }

    @Test func aFactoryProbesOnceAndTheNextStartReadsTheAnswer() async throws {
        try await withCacheFile { path in
            let first = LocalSandboxFactory(settings: Self.settings, cacheFile: path)
            let sandbox = try await first.makeSandbox()
            #expect(try await run(sandbox, "print(6 * 7)").stdout == "42\n")
            await sandbox.shutdown()
            await first.removeWorkRoot()
            let key = try LocalSandboxFactory.probeKey(settings: Self.settings, searchPath: Self.searchPath)
            let saved = try #require(ProbeCache(path: path).load(for: key), "the first start saved what it found")
            #expect(saved.level == (await first.isolation))

            let second = LocalSandboxFactory(settings: Self.settings, cacheFile: path)
            let again = try await second.makeSandbox()
            #expect(try await run(again, "print(6 * 7)").stdout == "42\n")
            await again.shutdown()
            await second.removeWorkRoot()
        }
    }

    @Test func aSavedAnswerThatNoLongerHoldsIsReplacedAtWarmUp() async throws {
        try await withCacheFile { path in
            // An answer naming an "interpreter" that cannot run a worker: what a machine that changed in a way the key
            // does not see looks like.
            let broken = PythonInstallation(executable: "/bin/false", version: "3.99.0", prefixes: ["/usr"], sitePackages: [])
            let cache = ProbeCache(path: path)
            let stale = try entry(python: broken)
            cache.save(stale)
            let factory = LocalSandboxFactory(settings: Self.settings, cacheFile: path)
            await factory.warmUp()
            let sandbox = try await factory.makeSandbox()
            #expect(try await run(sandbox, "import sys\nprint(sys.version_info >= (3, 10))").stdout == "True\n")
            await sandbox.shutdown()
            await factory.removeWorkRoot()
            let fresh = try #require(cache.load(for: stale.key), "the probes ran again and saved their answer")
            #expect(fresh.python.executable != "/bin/false")
        }
    }

    /// The `rlm_worker-*.pyc` files beside the probe answers.
    private func keptBytecode(besides path: String) -> [String] {
        let directory = (path as NSString).deletingLastPathComponent
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("rlm_worker-") && $0.hasSuffix(".pyc") }.map { directory + "/" + $0 }
    }

    @Test func workersRunFromBytecodeKeptBesideTheProbes() async throws {
        try await withCacheFile { path in
            let first = LocalSandboxFactory(settings: Self.settings, cacheFile: path)
            let sandbox = try await first.makeSandbox()
            #expect(try await run(sandbox, "import sys\nprint(sys.argv[0].rsplit('/', 1)[-1])").stdout == "rlm_worker.pyc\n")
            // The worker's own frames stay out of the user's traceback, as with the script.
            let failure = try #require(try await run(sandbox, "def f():\n    raise ValueError('bad')\nf()").error)
            #expect(failure.traceback.contains("line 2, in f") && !failure.traceback.contains("rlm_worker"))
            await sandbox.shutdown()
            await first.removeWorkRoot()
            let kept = try #require(keptBytecode(besides: path).first)
            #expect(keptBytecode(besides: path).count == 1)
            var info = stat()
            #expect(stat(kept, &info) == 0 && info.st_mode & 0o777 == 0o600)

            // Bytecode others may write is not used: the next start compiles its own.
            #expect(chmod(kept, 0o666) == 0)
            let second = LocalSandboxFactory(settings: Self.settings, cacheFile: path)
            let again = try await second.makeSandbox()
            #expect(try await run(again, "print(6 * 7)").stdout == "42\n")
            await again.shutdown()
            await second.removeWorkRoot()
            #expect(stat(kept, &info) == 0 && info.st_mode & 0o777 == 0o600)
        }
    }

    @Test func keptBytecodeThatDoesNotRunIsReplacedAtWarmUp() async throws {
        try await withCacheFile { path in
            let first = LocalSandboxFactory(settings: Self.settings, cacheFile: path)
            await first.warmUp()
            await first.removeWorkRoot()
            let kept = try #require(keptBytecode(besides: path).first)
            // This user's own file, but not bytecode this interpreter can run.
            try Data(repeating: 0x2A, count: 64).write(to: URL(fileURLWithPath: kept))
            #expect(chmod(kept, 0o600) == 0)
            let factory = LocalSandboxFactory(settings: Self.settings, cacheFile: path)
            await factory.warmUp()
            let sandbox = try await factory.makeSandbox()
            #expect(try await run(sandbox, "print('ready')").stdout == "ready\n")
            await sandbox.shutdown()
            await factory.removeWorkRoot()
            #expect(try Data(contentsOf: URL(fileURLWithPath: kept)) != Data(repeating: 0x2A, count: 64), "compiled again")
        }
    }

    @Test func afterWarmUpTheFirstSandboxHasAReadyWorker() async throws {
        try await withCacheFile { path in
            let factory = LocalSandboxFactory(settings: Self.settings, cacheFile: path)
            await factory.warmUp()
            let sandbox = try await factory.makeSandbox()
            // Before any call: the worker the warm-up started is already there.
            #expect(await sandbox.status().workers == 1)
            #expect(try await run(sandbox, "print('ready')").stdout == "ready\n")
            await sandbox.shutdown()
            await factory.removeWorkRoot()
        }
    }
}
