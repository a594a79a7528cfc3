import Foundation
import Testing
@testable import Daytona

/// The REST client against the fake Daytona: lifecycle, errors with Daytona's reason, retries only where safe.
@Suite(.serialized) struct DaytonaClientTests {
    static func client(_ fake: FakeDaytona, key: String = FakeDaytona.key) -> DaytonaClient {
        var settings = DaytonaSettings(apiURL: fake.apiURL, apiKey: key, target: "eu", snapshot: nil)
        settings.retry.baseDelay = .milliseconds(20)
        settings.createTimeout = .seconds(20)
        return DaytonaClient(settings: settings)
    }

    @Test func createsWaitsListsAndDeletesWithLabelsAndIntervals() async throws {
        let fake = try FakeDaytona()
        let client = Self.client(fake)
        let created = try await client.createSandbox(labels: ["app": "rlm-mcp", "rlm-mcp.workspace": "w1"])
        let started = try await client.waitUntilStarted(created, timeout: .seconds(10))
        #expect(started.state == "started")
        #expect(started.target == "eu")
        let listed = try await client.listSandboxes(labels: ["app": "rlm-mcp"])
        #expect(listed.map(\.id) == [created.id])
        #expect(try await client.listSandboxes(labels: ["app": "other"]).isEmpty)
        let record = try #require(try fake.sandboxes().first)
        #expect(record["autoStopInterval"] as? Int == 15)
        #expect(record["autoDeleteInterval"] as? Int == 0)
        #expect((record["labels"] as? [String: String])?["rlm-mcp.workspace"] == "w1")
        try await client.deleteSandbox(created.id)
        try await client.deleteSandbox(created.id)  // already gone: still fine
        #expect(fake.live == 0)
        let log = try fake.log()
        #expect(!log.isEmpty && log.allSatisfy { $0["auth"] as? Bool == true })
    }

    @Test func aSandboxInErrorIsReportedWithItsReason() async throws {
        let fake = try FakeDaytona()
        try fake.faults([["type": "create_error", "reason": "no runner available in eu"]])
        let client = Self.client(fake)
        let created = try await client.createSandbox(labels: [:])
        await #expect(throws: DaytonaError.sandboxFailed(id: created.id, state: "error", reason: "no runner available in eu")) {
            _ = try await client.waitUntilStarted(created, timeout: .seconds(5))
        }
    }

    @Test func slowCreationIsWaitedFor() async throws {
        let fake = try FakeDaytona()
        try fake.faults([["type": "slow_create", "delay_s": 0.4]])
        let client = Self.client(fake)
        let created = try await client.createSandbox(labels: [:])
        #expect(created.state == "creating")
        #expect(try await client.waitUntilStarted(created, timeout: .seconds(10)).state == "started")
    }

    @Test func idempotentCallsAreRetriedOn5xxAnd429() async throws {
        let fake = try FakeDaytona()
        let client = Self.client(fake)
        let created = try await client.createSandbox(labels: [:])
        try fake.faults([["type": "500", "match": "GET /api/sandbox/"], ["type": "429", "retry_after": 0, "match": "GET /api/sandbox/"]])
        #expect(try await client.sandbox(created.id).id == created.id)
        let attempts = try fake.log().filter { ($0["path"] as? String) == "/api/sandbox/\(created.id)" }.map { $0["status"] as? Int }
        #expect(attempts == [500, 429, 200])
    }

    @Test func anExecIsNotRetriedAfterA5xx() async throws {
        let fake = try FakeDaytona()
        let client = Self.client(fake)
        let info = try await client.waitUntilStarted(try await client.createSandbox(labels: [:]), timeout: .seconds(5))
        let toolbox = try await client.toolboxBase(for: info)
        try fake.faults([["type": "500", "match": "/process/execute"]])
        await #expect(throws: DaytonaError.self) {
            _ = try await client.execute(toolbox: toolbox, command: "echo once >> runs.txt", cwd: nil, timeout: .seconds(5))
        }
        let executes = try fake.log().filter { ($0["path"] as? String)?.hasSuffix("/process/execute") == true }
        #expect(executes.count == 1)
        let result = try await client.execute(toolbox: toolbox, command: "echo hi; exit 4", cwd: nil, timeout: .seconds(5))
        #expect(result == DaytonaExecuteResult(exitCode: 4, result: "hi\n"))
    }

    @Test func createIsRetriedOnlyOnRateLimit() async throws {
        let fake = try FakeDaytona()
        let client = Self.client(fake)
        try fake.faults([["type": "429", "retry_after": 0, "match": "POST /api/sandbox"]])
        _ = try await client.createSandbox(labels: [:])
        try fake.faults([["type": "500", "match": "POST /api/sandbox"]])
        await #expect(throws: DaytonaError.self) { _ = try await client.createSandbox(labels: [:]) }
        #expect(try fake.stats()["created"] as? Int == 1)
    }

    @Test func aRejectedKeyIsExplainedWithoutShowingIt() async throws {
        let fake = try FakeDaytona()
        let wrong = "dtn-wrong-key-SECRET-777"
        let client = Self.client(fake, key: wrong)
        do {
            _ = try await client.createSandbox(labels: [:])
            Issue.record("a wrong key was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("DAYTONA_API_KEY"))
            #expect(!text.contains(wrong))
        }
    }

    @Test func filesRoundTripThroughTheToolbox() async throws {
        let fake = try FakeDaytona()
        let client = Self.client(fake)
        let info = try await client.waitUntilStarted(try await client.createSandbox(labels: [:]), timeout: .seconds(5))
        let toolbox = try await client.toolboxBase(for: info)
        let dir = try await client.workDir(toolbox: toolbox)
        try await client.createFolder(toolbox: toolbox, path: dir + "/data")
        let bytes = Data((0..<300_000).map { UInt8($0 % 251) })
        try await client.uploadFile(toolbox: toolbox, path: dir + "/data/blob.bin", data: bytes)
        #expect(try await client.downloadFile(toolbox: toolbox, path: dir + "/data/blob.bin", maxBytes: 1_000_000) == bytes)
        let listed = try await client.listFiles(toolbox: toolbox, path: dir + "/data")
        #expect(listed.map(\.name) == ["blob.bin"] && listed.first?.size == bytes.count)
        try await client.deleteFile(toolbox: toolbox, path: dir + "/data", recursive: true)
        #expect(try await client.listFiles(toolbox: toolbox, path: dir).isEmpty)
    }

    @Test func demuxerHandlesMarkersSplitAcrossMessages() {
        var demuxer = LogDemuxer()
        var out: [UInt8] = []
        var err: [UInt8] = []
        for piece in [[1, 1], [1, 65, 66, 2], [2, 2, 67], [1, 1, 1, 68]] as [[UInt8]] {
            let split = demuxer.append(piece)
            out += split.stdout
            err += split.stderr
        }
        #expect(out == [65, 66, 68])
        #expect(err == [67])
    }
}

@Test func settingsNeverPrintTheKey() {
    let settings = DaytonaSettings(apiURL: "http://127.0.0.1:1/api/", apiKey: "dtn-secret-value", target: "eu")
    #expect(settings.apiURL == "http://127.0.0.1:1/api")
    #expect(!"\(settings)".contains("dtn-secret-value") && !String(reflecting: settings).contains("dtn-secret-value"))
}

@Test func sandboxAnswersDecodeLeniently() throws {
    let json = #"{"id": "sb-1", "state": "hibernating", "labels": {"app": "rlm-mcp"}, "cpu": "not a number", "newField": [1, {"x": 2}]}"#
    let info = try JSONDecoder().decode(DaytonaSandboxInfo.self, from: Data(json.utf8))
    #expect(info.id == "sb-1" && info.state == "hibernating" && info.labels == ["app": "rlm-mcp"])
    #expect(info.toolboxProxyURL == nil && info.errorReason == nil && !info.hasFailed)
    let bare = try JSONDecoder().decode(DaytonaSandboxInfo.self, from: Data(#"{"id": "sb-2", "labels": null}"#.utf8))
    #expect(bare.state == "unknown" && bare.labels.isEmpty)
    #expect(throws: (any Error).self) { _ = try JSONDecoder().decode(DaytonaSandboxInfo.self, from: Data(#"{"state": "started"}"#.utf8)) }
}
