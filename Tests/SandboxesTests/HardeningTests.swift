import Foundation
import Synchronization
import Testing
@testable import Sandboxes

#if canImport(Glibc)
import Glibc
#endif

/// What untrusted code can do to the host side of the sandbox: descriptors, FIFOs, floods, oversized frames.
@Suite(.serialized) struct HardeningTests {
    static let factory = LocalSandboxFactory(settings: .init(python: nil, isolation: nil, allowUnsafe: false, limits: .init(memoryMB: 1024)))

    private func withSandbox(_ body: (LocalSandbox) async throws -> Void) async throws {
        let sandbox = try await Self.factory.makeSandbox()
        do { try await body(sandbox) } catch {
            await sandbox.shutdown()
            throw error
        }
        await sandbox.shutdown()
    }

    private func run(_ sandbox: LocalSandbox, _ code: String, timeout: Duration = .seconds(20)) async throws -> ExecResult {
        try await sandbox.execute(ExecRequest(code: code, namespace: .named("main"), timeout: timeout, maxOutputChars: 20_000))
    }

    @Test func aWorkerSeesNoDescriptorOfTheServer() async throws {
        // A socket and a pipe the server holds without close-on-exec must not pass into the sandbox.
        let leakedSocket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var ends: [Int32] = [0, 0]
        _ = pipe(&ends)
        defer { close(leakedSocket); close(ends[0]); close(ends[1]) }
        try await withSandbox { sandbox in
            let listing = try await run(sandbox, """
                import os
                for fd in sorted(int(n) for n in os.listdir('/proc/self/fd')):
                    try: print(fd, os.readlink(f'/proc/self/fd/{fd}'))
                    except OSError: pass
                """)
            let leaked = listing.stdout.split(separator: "\n").filter { line in
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, let fd = Int(parts[0]) else { return false }
                return fd > 4 && !parts[1].hasPrefix("/")
            }
            #expect(leaked.isEmpty, "inherited descriptors: \(leaked)")
            #expect(!listing.stdout.contains("socket:") && !listing.stdout.contains("anon_inode"))
            let shell = try await sandbox.shell(command: "ls -l /proc/$$/fd", cwd: nil, timeout: .seconds(20))
            #expect(!shell.stdout.contains("socket:") && !shell.stdout.contains("anon_inode"), "\(shell.stdout)")
        }
    }

    @Test func aFIFOIsRefusedInsteadOfBlockingTheServer() async throws {
        try await withSandbox { sandbox in
            _ = try await run(sandbox, "import os; os.mkfifo('pipe')")
            for attempt in [
                { _ = try await sandbox.downloadFile(path: "pipe", maxBytes: 1024) },
                { _ = try await sandbox.uploadFile(path: "pipe", data: Data("x".utf8)) },
            ] as [() async throws -> Void] {
                do {
                    try await attempt()
                    Issue.record("a FIFO was opened")
                } catch let error as SandboxError {
                    #expect("\(error)".contains("not a regular file"))
                }
            }
            #expect(try await sandbox.listFiles(path: ".", recursive: true).contains { $0.name == "pipe" })
        }
    }

    @Test func aRecursiveListingIsCompleteAndRefusesTooManyEntries() async throws {
        try await withSandbox { sandbox in
            _ = try await run(sandbox, "import os\nfor i in range(300): os.makedirs(f'tree/d{i}/e')")
            // The descriptor bound itself is proven under a 128-descriptor limit in the interop suite
            // (test_security.py): counting this process's descriptors races the suites running beside it.
            #expect(try await sandbox.listFiles(path: "tree", recursive: true).count == 600)
            _ = try await run(sandbox, "import os\nos.makedirs('many')\nfor i in range(10_001): open(f'many/{i}', 'w').close()")
            await #expect(throws: SandboxError.tooManyEntries("many", limit: 10_000)) { try await sandbox.listFiles(path: "many", recursive: false) }
        }
    }

    @Test func aShellCwdThatLinksOutIsRefusedAlikeWhetherTheTargetExistsOrNot() async throws {
        try await withSandbox { sandbox in
            _ = try await run(sandbox, "import os; os.symlink('/tmp', 'exists'); os.symlink('/no/such/dir', 'missing')")
            var messages: [String] = []
            for link in ["exists", "missing"] {
                do {
                    _ = try await sandbox.shell(command: "pwd", cwd: link, timeout: .seconds(10))
                    Issue.record("cwd \(link) was accepted")
                } catch {
                    messages.append("\(error)".replacingOccurrences(of: link, with: "LINK"))
                }
            }
            #expect(messages.count == 2 && messages[0] == messages[1] && messages[0].contains("outside the sandbox"))
        }
    }

    @Test func aWorkerThatFloodsRequestsWithoutReadingRepliesStillTimesOut() async throws {
        try await withSandbox { sandbox in
            let result = try await run(sandbox, """
                import os, json, time
                frames = ''.join(json.dumps({'ev': 'request', 'id': f'q{i}', 'exec': 'x', 'kind': 'llm_query', 'prompt': 'p'}) + '\\n' for i in range(5000))
                os.write(4, frames.encode())
                time.sleep(60)
                """, timeout: .seconds(3))
            #expect(result.error?.type == "Timeout")
            #expect(try await run(sandbox, "print('alive')").stdout == "alive\n")
        }
    }

    @Test func anOversizedFrameStopsTheWorkerWithAClearError() async throws {
        try await withSandbox { sandbox in
            do {
                _ = try await run(sandbox, """
                    import os, time
                    chunk = b'x' * (1 << 20)
                    for _ in range(80): os.write(4, chunk)
                    time.sleep(60)
                    """, timeout: .seconds(30))
                Issue.record("an 80 MB frame was accepted")
            } catch let error as SandboxError {
                #expect("\(error)".contains("larger than 64 MB"))
            }
        }
    }

    @Test(.enabled(if: SandboxCgroup.Hierarchy.detected != nil, "needs root and a writable cgroup hierarchy"))
    func oneCgroupHoldsTheSandboxsMemoryIncludingItsTmp() async throws {
        var limits = LocalSandbox.Limits(memoryMB: 1024)
        limits.totalMemoryMB = 200
        let factory = LocalSandboxFactory(settings: .init(python: nil, isolation: nil, allowUnsafe: false, limits: limits))
        let sandbox = try await factory.makeSandbox()
        defer { Task { await sandbox.shutdown() } }
        #expect((await sandbox.status()).details["cgroup"]?.contains("200 MB") == true)
        // 150 MB of /tmp (RAM) plus 120 MB in the process: each within its own limit, together over the group's 200 MB.
        do {
            let result = try await sandbox.execute(ExecRequest(code: """
                chunk = b'x' * (1 << 20)
                with open('/tmp/fill', 'wb') as f:
                    for _ in range(150): f.write(chunk)
                hog = bytearray(120 * (1 << 20))
                for i in range(0, len(hog), 4096): hog[i] = 1
                print('survived')
                """, namespace: .named("main"), timeout: .seconds(30), maxOutputChars: 1000))
            #expect(result.stdout != "survived\n", "270 MB fit in a 200 MB group")
        } catch let error as SandboxError {
            #expect("\(error)".contains("died"))
        }
    }

    @Test func aNamedWorkerOutlivesTheThreadThatStartedIt() async throws {
        // bubblewrap dies with the thread that spawned it; pooled threads retire after a few idle seconds.
        try await withSandbox { sandbox in
            _ = try await run(sandbox, "kept = 'still here'")
            try await Task.sleep(for: .seconds(8))
            #expect(try await run(sandbox, "print(kept)").stdout == "still here\n")
        }
    }

    @Test func thePrivateTmpIsSized() async throws {
        try await withSandbox { sandbox in
            let result = try await run(sandbox, """
                import os
                chunk = b'x' * (1 << 20)
                with open('/tmp/fill', 'wb') as f:
                    for _ in range(400): f.write(chunk)
                """)
            #expect(result.error?.message.contains("No space left on device") == true, "\(String(describing: result.error))")
            #expect(try await run(sandbox, "print('alive')").stdout == "alive\n")
        }
    }

    @Test func anOutboxThatNobodyDrainsOverflowsInsteadOfBlocking() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { close(ends[0]) }
        let overflowed = Mutex(false)
        let outbox = WorkerOutbox(fd: ends[1], capacity: 1 << 20, name: "test") { overflowed.withLock { $0 = true } }
        let frame = Data(repeating: UInt8(ascii: "x"), count: 64 * 1024)
        for _ in 0..<64 { outbox.enqueue(frame) }  // 4 MB into a pipe that holds 64 KB and is never read
        #expect(overflowed.withLock { $0 })
        outbox.close()
    }

    @Test func shellWordsSurviveAShell() throws {
        for word in ["plain", "with space", "it's", "'; rm -rf /tmp/x; '", "$(id)", "a\\b\"c", ""] {
            let output = try runShell("printf %s \(ShellWord.quoted(word))")
            #expect(output == word)
        }
    }

    private func runShell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Foundation.Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
