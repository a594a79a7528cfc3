import FakeServices
import Foundation
import RLMCommon
import Sandboxes
import Testing
@testable import Daytona

/// `DaytonaSandbox` against the fake Daytona: the worker protocol over session input and the log stream.
@Suite(.serialized) struct DaytonaSandboxTests {
    static func sandbox(_ fake: FakeDaytona) throws -> DaytonaSandbox {
        var settings = DaytonaSettings(apiURL: fake.apiURL, apiKey: FakeDaytona.key, target: "us", snapshot: nil)
        settings.retry.baseDelay = .milliseconds(20)
        return try DaytonaSandboxFactory(settings: settings).makeSandbox(workspaceID: "test-ws")
    }

    static func run(_ sandbox: DaytonaSandbox, _ code: String, in name: String? = "main", onSubCall: @escaping SubCallHandler = SubCall.unavailable) async throws -> ExecResult {
        try await sandbox.execute(ExecRequest(code: code, namespace: name.map { .named($0) } ?? .fresh, timeout: .seconds(30), onSubCall: onSubCall))
    }

    @Test func namedNamespacesKeepVariablesAndShutdownDeletesTheSandbox() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        let first = try await Self.run(sandbox, "x = 20\nprint('set')")
        #expect(first.stdout == "set\n" && first.error == nil)
        #expect(try await Self.run(sandbox, "x + 1").stdout == "21\n")
        #expect(try await Self.run(sandbox, "x", in: "other").error?.type == "NameError")
        #expect(try await Self.run(sandbox, "print(2 * 21)", in: nil).stdout == "42\n")
        let status = await sandbox.status()
        #expect(status.backend == "daytona" && status.state == "started" && status.details["region"] == "us")
        #expect(status.details["sandbox_id"] != nil)
        #expect(fake.live == 1)
        await sandbox.shutdown()
        #expect(fake.live == 0)
    }

    @Test func subCallsFromTheCodeAreAnsweredByTheHost() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        let result = try await Self.run(sandbox, "a = llm_query('capital of France?')\nb = llm_query_batched(['1', '2'])\nSUBMIT(answer=a, more=b)") { call in
            switch call {
            case let .llmQuery(prompt, _): .text("answer to \(prompt)")
            case let .llmQueryBatched(prompts, _): .texts(prompts.map { "n\($0)" })
            case .rlmQuery: .failure("no")
            }
        }
        #expect(result.error == nil)
        #expect(result.submitted == ["answer": .string("answer to capital of France?"), "more": .array([.string("n1"), .string("n2")])])
        await sandbox.shutdown()
    }

    @Test func shellAndFilesUseTheToolbox() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        #expect(try await sandbox.uploadFile(path: "data/in.txt", data: Data("hello".utf8)) == 5)
        let shell = try await sandbox.shell(command: "cat data/in.txt; echo; pwd; exit 3", cwd: nil, timeout: .seconds(10))
        #expect(shell.exitCode == 3 && shell.stdout.hasPrefix("hello\n"))
        #expect(try await Self.run(sandbox, "open('data/out.txt', 'w').write(open('data/in.txt').read().upper())").error == nil)
        #expect(try await sandbox.downloadFile(path: "data/out.txt", maxBytes: 100) == Data("HELLO".utf8))
        let entries = try await sandbox.listFiles(path: ".", recursive: true)
        #expect(entries.map(\.path) == ["data", "data/in.txt", "data/out.txt"])
        await #expect(throws: SandboxError.notFound("nope.txt")) { _ = try await sandbox.downloadFile(path: "nope.txt", maxBytes: 100) }
        for path in HostilePaths.all {
            await #expect(throws: SandboxError.self, "\(path)") { _ = try await sandbox.uploadFile(path: path, data: Data()) }
            await #expect(throws: SandboxError.self, "\(path)") { _ = try await sandbox.downloadFile(path: path, maxBytes: 10) }
        }
        let timedOut = try await sandbox.shell(command: "sleep 5", cwd: nil, timeout: .seconds(1))
        #expect(timedOut.timedOut)
        await sandbox.shutdown()
    }

    @Test func aContextFileIsLoadedIntoANamespaceVariable() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        let context = Data(#"{"rows": [1, 2, 3], "title": "t"}"#.utf8)
        _ = try await sandbox.uploadFile(path: "ctx/run-1.json", data: context)
        let loaded = try await sandbox.loadVariable("context", fromFile: "ctx/run-1.json", kind: "json", namespace: "run-1", timeout: .seconds(10))
        #expect(loaded.type == "dict" && loaded.length == 2)
        #expect(try await Self.run(sandbox, "sum(context['rows'])", in: "run-1").stdout == "6\n")
        await sandbox.shutdown()
    }

    @Test func aDroppedLogStreamIsReopenedAndSkipsWhatWasDelivered() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        // The first stream is cut in the middle of the ready frame; the reopened one replays it from the start.
        try fake.faults([["type": "drop_logs", "after_bytes": 30]])
        #expect(try await Self.run(sandbox, "y = 5").error == nil)
        #expect(try await Self.run(sandbox, "print(y * 3)").stdout == "15\n")
        let log = try fake.log()
        #expect(log.filter { ($0["route"] as? String)?.hasPrefix("WS ") == true }.count >= 2)  // the worker's stream, opened twice
        #expect(!log.contains { ($0["route"] as? String) == "GET /process/session/{sid}/command/{cmd}/logs" })
        await sandbox.shutdown()
        #expect(fake.live == 0)
    }

    @Test func aLogStreamThatKeepsDroppingFallsBackToPolling() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        try fake.faults(Array(repeating: ["type": "drop_logs", "after_bytes": 0], count: 8))
        #expect(try await Self.run(sandbox, "y = 5").error == nil)
        #expect(try await Self.run(sandbox, "print(y * 3)").stdout == "15\n")
        let polls = try fake.log().filter { ($0["route"] as? String) == "GET /process/session/{sid}/command/{cmd}/logs" }
        #expect(!polls.isEmpty)
        await sandbox.shutdown()
        #expect(fake.live == 0)
    }

    @Test func aKilledWorkerIsReportedAndTheNamespaceStartsAfresh() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        #expect(try await Self.run(sandbox, "z = 1").error == nil)
        let running = Task { try await Self.run(sandbox, "import time\ntime.sleep(20)") }
        try await Task.sleep(for: .milliseconds(500))
        try fake.killCommands()
        await #expect(throws: SandboxError.self) { _ = try await running.value }
        // The warm spare was killed too; its death is noticed asynchronously (its log stream closes).
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await Self.run(sandbox, "z").error?.type == "NameError")
        await sandbox.shutdown()
    }

    @Test func aSandboxInErrorIsReplacedOnTheNextCall() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        #expect(try await Self.run(sandbox, "v = 1").error == nil)
        var seen: [String] = []
        for failing in ["exec", "shell"] {
            let id = try #require(await sandbox.sandboxID)
            seen.append(id)
            try fake.breakSandbox(id, reason: "host lost during \(failing)")
            do {
                if failing == "exec" {
                    _ = try await Self.run(sandbox, "v")
                } else {
                    _ = try await sandbox.shell(command: "true", cwd: nil, timeout: .seconds(5))
                }
                Issue.record("a broken sandbox answered")
            } catch {
                #expect("\(error)".contains("host lost during \(failing)") && "\(error)".contains("next call creates a new sandbox"))
            }
            #expect(try await Self.run(sandbox, "print('again')").stdout == "again\n")
        }
        #expect(Set(seen + [await sandbox.sandboxID ?? ""]).count == 3)
        #expect(fake.live == 1)
        await sandbox.shutdown()
        #expect(fake.live == 0)
    }

    @Test func aTimeoutStopsOnlyThatNamespace() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        #expect(try await Self.run(sandbox, "k = 3", in: "keep").error == nil)
        let result = try await sandbox.execute(ExecRequest(code: "while True: pass", namespace: .named("spin"), timeout: .seconds(2)))
        #expect(result.error?.type == "Timeout")
        #expect(try await Self.run(sandbox, "k", in: "keep").stdout == "3\n")
        await sandbox.shutdown()
    }

    @Test func theKeyNeverReachesTheSandbox() async throws {
        let fake = try FakeDaytona()
        let sandbox = try Self.sandbox(fake)
        let env = try await Self.run(sandbox, "import os\nprint(dict(os.environ))")
        #expect(!env.stdout.contains(FakeDaytona.key))
        let shell = try await sandbox.shell(command: "env", cwd: nil, timeout: .seconds(5))
        #expect(!shell.stdout.contains(FakeDaytona.key))
        for record in try fake.sandboxes() {
            #expect(!"\(record["commandEnvs"] ?? "")".contains(FakeDaytona.key))
        }
        await sandbox.shutdown()
    }
}
