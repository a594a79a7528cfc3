import FakeServices
import Foundation

/// Runs scripts/fakes/fake_llm.py on a free loopback port for one test.
final class FakeLLM: @unchecked Sendable {
    private let fake: LoopbackFake
    private let scriptFile: URL
    var url: String { fake.url }

    init(script: [String: Any] = [:]) throws {
        scriptFile = FileManager.default.temporaryDirectory.appendingPathComponent("fake-llm-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: script).write(to: scriptFile)
        fake = try LoopbackFake(script: "fake_llm.py", arguments: ["--script", scriptFile.path])
    }

    deinit {
        try? FileManager.default.removeItem(at: scriptFile)
    }

    func faults(_ faults: [[String: Any]]) throws {
        _ = try control("/_control/faults", body: faults)
    }

    func log() throws -> [[String: Any]] {
        try control("/_control/log") as? [[String: Any]] ?? []
    }

    func stats() throws -> [String: Any] {
        try control("/_control/stats") as? [String: Any] ?? [:]
    }

    private func control(_ path: String, body: Any? = nil) throws -> Any {
        try fake.control(path, body: body)
    }
}
