import Foundation
import RLMCommon
import Testing
@testable import Sandboxes

/// Real workers under the strongest isolation this machine offers (CI installs bubblewrap).
@Suite(.serialized) struct LocalSandboxTests {
    static let factory = LocalSandboxFactory(settings: .init(python: nil, isolation: nil, allowUnsafe: false, limits: .init(memoryMB: 1024)))

    private func withSandbox(_ body: (LocalSandbox) async throws -> Void) async throws {
        let sandbox = try await Self.factory.makeSandbox()
        do {
            try await body(sandbox)
        } catch {
            await sandbox.shutdown()
            throw error
        }
        await sandbox.shutdown()
    }

    private func run(_ sandbox: LocalSandbox, _ code: String, in namespace: ExecRequest.Namespace = .named("main"),
                     timeout: Duration = .seconds(20), maxOutput: Int = 20_000, variables: String? = nil,
                     onSubCall: @escaping SubCallHandler = SubCall.unavailable) async throws -> ExecResult {
        try await sandbox.execute(ExecRequest(code: code, namespace: namespace, variables: variables.flatMap { JSONValue.parse(Data($0.utf8))?.objectValue },
                                              timeout: timeout, maxOutputChars: maxOutput, onSubCall: onSubCall))
    }

    @Test func namedNamespacesKeepVariablesAndFreshOnesDoNot() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            #expect(try await run(sandbox, "x = 20\nx * 2 + 2").stdout == "42\n")
            #expect(try await run(sandbox, "print(x + 1)").stdout == "21\n")
            #expect(try await run(sandbox, "x", in: .named("other")).error?.type == "NameError")
            #expect(try await run(sandbox, "x", in: .fresh).error?.type == "NameError")
            await sandbox.resetNamespace("main")
            #expect(try await run(sandbox, "x").error?.type == "NameError")
        }
    }

    @Test func variablesAreInjectedAndSubmitReturnsJSON() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            let result = try await run(sandbox, "SUBMIT(answer=sum(numbers), label=name.upper())", in: .fresh,
                                       variables: #"{"numbers": [1, 2, 3], "name": "ok"}"#)
            #expect(result.error == nil)
            #expect(result.submitted == ["answer": .int(6), "label": .string("OK")])
        }
    }

    @Test func errorsCarryTypeMessageAndTraceback() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            let failure = try #require(try await run(sandbox, "def f():\n    return 1 / 0\nf()").error)
            #expect(failure.type == "ZeroDivisionError")
            #expect(failure.message == "division by zero")
            #expect(failure.traceback.contains("line 2, in f"))
            #expect(try await run(sandbox, "def (:").error?.type == "SyntaxError")
        }
    }

    @Test func aTimeoutKillsTheWorkerAndSaysStateWasLost() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            _ = try await run(sandbox, "kept = 1")
            let result = try await run(sandbox, "while True: pass", timeout: .seconds(1))
            #expect(result.error?.type == "Timeout")
            #expect(result.error?.message.contains("variables were lost") == true)
            #expect(try await run(sandbox, "kept").error?.type == "NameError")
            #expect(try await run(sandbox, "1 + 1").stdout == "2\n")
        }
    }

    @Test func aCrashedWorkerIsReportedAndReplaced() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            await #expect(throws: SandboxError.self) { try await run(sandbox, "import os; os._exit(3)") }
            #expect(try await run(sandbox, "'alive'").stdout == "'alive'\n")
        }
    }

    @Test func longOutputIsTruncatedWithAMarker() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            let result = try await run(sandbox, "print('y' * 5000)", maxOutput: 100)
            #expect(result.truncated)
            #expect(result.stdout.hasPrefix(String(repeating: "y", count: 100)))
            #expect(result.stdout.contains("[output truncated: 4901 more characters not shown]"))
        }
    }

    @Test func subprocessOutputIsCaptured() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            let result = try await run(sandbox, "import subprocess\nsubprocess.run(['echo', 'from child'])\nprint('from python')")
            #expect(result.stdout.contains("from child") && result.stdout.contains("from python"))
        }
    }

    @Test func concurrentExecutionsInDifferentNamespacesStayApart() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            let outputs = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<4 {
                    group.addTask {
                        let result = try await run(sandbox, "import time\nme = \(index)\ntime.sleep(0.2)\nprint(me * 10)", in: .named("ns\(index)"))
                        return (index, result.stdout)
                    }
                }
                return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            }
            #expect(outputs == [0: "0\n", 1: "10\n", 2: "20\n", 3: "30\n"])
        }
    }

    @Test func subCallsAreAnsweredByTheHost() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            let result = try await run(sandbox, "print(llm_query('capital of France?'))\nprint(llm_query_batched(['a', 'b']))", onSubCall: { call in
                switch call {
                case let .llmQuery(prompt, _): .text("answer to: \(prompt)")
                case let .llmQueryBatched(prompts, _): .texts(prompts.map { $0.uppercased() })
                case .rlmQuery: .failure("no")
                }
            })
            #expect(result.stdout == "answer to: capital of France?\n['A', 'B']\n")
            let unavailable = try await run(sandbox, "llm_query('x')")
            #expect(unavailable.error?.type == "RuntimeError")
            #expect(unavailable.error?.message.contains("not available here") == true)
        }
    }

    @Test func filesRoundTripAndPathsCannotEscape() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            #expect(try await sandbox.uploadFile(path: "data/in.txt", data: Data("hello".utf8)) == 5)
            #expect(try await run(sandbox, "open('data/in.txt').read()").stdout == "'hello'\n")
            _ = try await run(sandbox, "open('data/out.bin', 'wb').write(bytes(range(256)))")
            #expect(try await sandbox.downloadFile(path: "data/out.bin", maxBytes: 1000) == Data((0...255).map { UInt8($0) }))
            let listing = try await sandbox.listFiles(path: ".", recursive: true).map(\.path)
            #expect(listing == ["data", "data/in.txt", "data/out.bin"])
            await #expect(throws: SandboxError.tooLarge("data/out.bin", size: 256, limit: 10)) {
                try await sandbox.downloadFile(path: "data/out.bin", maxBytes: 10)
            }
            for escape in ["../x", "data/../../x", "/etc/passwd"] {
                await #expect(throws: SandboxError.self) { try await sandbox.uploadFile(path: escape, data: Data()) }
                await #expect(throws: SandboxError.self) { try await sandbox.downloadFile(path: escape, maxBytes: 100) }
            }
            _ = try await run(sandbox, "import os; os.symlink('/etc', 'link_out'); os.symlink('data/in.txt', 'link_in')")
            await #expect(throws: SandboxError.self) { try await sandbox.downloadFile(path: "link_out/hostname", maxBytes: 1000) }
            await #expect(throws: SandboxError.self) { try await sandbox.uploadFile(path: "link_out/evil", data: Data()) }
        }
    }

    @Test func removingFilesStaysInsideTheWorkDir() async throws {
        // A canary outside the sandbox that a broken containment would delete.
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("rlm-canary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        let canary = outside.appendingPathComponent("canary.txt")
        try Data("alive".utf8).write(to: canary)
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            _ = try await sandbox.uploadFile(path: "data/gone.txt", data: Data("x".utf8))
            try await sandbox.removeFile(path: "data/gone.txt")
            #expect(try await sandbox.listFiles(path: "data", recursive: false).isEmpty)
            await #expect(throws: SandboxError.notFound("data/gone.txt")) { try await sandbox.removeFile(path: "data/gone.txt") }
            _ = try await run(sandbox, "import os; os.symlink('\(outside.path)', 'link_out')")
            for escape in ["link_out/canary.txt", "../canary.txt", "\(canary.path)", "data"] {
                await #expect(throws: SandboxError.self) { try await sandbox.removeFile(path: escape) }
            }
        }
        #expect(FileManager.default.fileExists(atPath: canary.path))
    }

    @Test func theHostIsOutOfReach() async throws {
        let canaryDir = FileManager.default.temporaryDirectory.appendingPathComponent("rlm-canary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: canaryDir, withIntermediateDirectories: true)
        chmod(canaryDir.path, 0o777)
        let canary = canaryDir.appendingPathComponent("canary.txt")
        try Data("untouched".utf8).write(to: canary)
        chmod(canary.path, 0o666)
        defer { try? FileManager.default.removeItem(at: canaryDir) }
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            let shadow = try await run(sandbox, "open('/etc/shadow').read()")
            #expect(shadow.error != nil)
            let write = try await run(sandbox, "open(\(String(reflecting: canary.path)), 'w').write('pwned')")
            #expect(write.error != nil)
            let socket = try await run(sandbox, "import socket\ns = socket.create_connection(('127.0.0.1', 22), timeout=2)")
            #expect(socket.error != nil)
            let env = try await run(sandbox, "import os; sorted(os.environ)")
            #expect(!env.stdout.contains("KEY") && !env.stdout.contains("TOKEN"))
        }
        #expect(try String(contentsOf: canary, encoding: .utf8) == "untouched")
    }

    @Test func shellCommandsRunIsolatedWithExitCodesAndTimeouts() async throws {
        try await withSandbox { (sandbox: LocalSandbox) async throws in
            let ok = try await sandbox.shell(command: "echo hi; echo err >&2; exit 3", cwd: nil, timeout: .seconds(20))
            #expect(ok.stdout == "hi\n" && ok.stderr == "err\n" && ok.exitCode == 3 && !ok.timedOut)
            _ = try await sandbox.uploadFile(path: "sub/f.txt", data: Data("x".utf8))
            #expect(try await sandbox.shell(command: "ls", cwd: "sub", timeout: .seconds(20)).stdout == "f.txt\n")
            let slow = try await sandbox.shell(command: "sleep 30", cwd: nil, timeout: .seconds(1))
            #expect(slow.timedOut && slow.durationMS < 10_000)
            await #expect(throws: SandboxError.self) { try await sandbox.shell(command: "true", cwd: "../..", timeout: .seconds(5)) }
        }
    }

    @Test func shutdownStopsWorkersAndDeletesTheWorkDir() async throws {
        let sandbox = try await Self.factory.makeSandbox()
        _ = try await run(sandbox, "import os; pid = os.getpid(); print(os.getcwd())")
        let status = await sandbox.status()
        #expect(status.workers >= 1 && status.namespaces == ["main"])
        #expect(status.isolation == "bubblewrap" || status.isolation == "unshare")
        await sandbox.shutdown()
        #expect(await sandbox.status().state == "closed")
        await #expect(throws: SandboxError.self) { try await run(sandbox, "1") }
    }
}
