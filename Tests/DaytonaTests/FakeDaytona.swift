import FakeServices
import Foundation

/// Runs scripts/fakes/fake_daytona.py on a free loopback port for one test.
final class FakeDaytona: @unchecked Sendable {
    static let key = "dtn-test-key-0123456789abcdef"
    private let fake: LoopbackFake
    var apiURL: String { fake.url }

    init(latencyMS: Int = 0) throws {
        // SIGTERM lets the fake remove its sandbox directories when the test ends.
        fake = try LoopbackFake(script: "fake_daytona.py", arguments: ["--api-key", Self.key, "--latency-ms", String(latencyMS)],
                                stopSignal: SIGTERM)
    }

    func faults(_ faults: [[String: Any]]) throws { _ = try control("/_control/faults", body: faults) }
    func stats() throws -> [String: Any] { try control("/_control/stats") as? [String: Any] ?? [:] }
    func log() throws -> [[String: Any]] { try control("/_control/log") as? [[String: Any]] ?? [] }
    func sandboxes() throws -> [[String: Any]] { try control("/_control/sandboxes") as? [[String: Any]] ?? [] }
    func killCommands() throws { _ = try control("/_control/kill", body: [String: Any]()) }
    func breakSandbox(_ id: String, reason: String) throws { _ = try control("/_control/error", body: ["sandbox": id, "reason": reason]) }
    func reset() throws { _ = try control("/_control/reset", body: [String: Any]()) }
    var live: Int { ((try? stats())?["live"] as? Int) ?? -1 }

    /// The control endpoints live beside the fake's /api root.
    private func control(_ path: String, body: Any? = nil) throws -> Any {
        try fake.control(path, base: String(apiURL.dropLast("/api".count)), body: body)
    }
}
