import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs scripts/fakes/fake_daytona.py on a free loopback port for one test.
final class FakeDaytona: @unchecked Sendable {
    static let key = "dtn-test-key-0123456789abcdef"
    let apiURL: String
    private let base: String
    private let process: Process

    init(latencyMS: Int = 0) throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repo.appendingPathComponent("scripts/fakes/fake_daytona.py").path, "--port", "0",
                             "--api-key", Self.key, "--latency-ms", String(latencyMS)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let address = line.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines), address.hasPrefix("http") else {
            kill(process.processIdentifier, SIGKILL)
            throw FakeError.didNotStart(line)
        }
        apiURL = address
        base = String(address.dropLast("/api".count))
    }

    deinit {
        // SIGTERM lets the fake remove its sandbox directories; Foundation reaps the process.
        kill(process.processIdentifier, SIGTERM)
    }

    enum FakeError: Error { case didNotStart(String) }

    func faults(_ faults: [[String: Any]]) throws { _ = try control("/_control/faults", body: faults) }
    func stats() throws -> [String: Any] { try control("/_control/stats") as? [String: Any] ?? [:] }
    func log() throws -> [[String: Any]] { try control("/_control/log") as? [[String: Any]] ?? [] }
    func sandboxes() throws -> [[String: Any]] { try control("/_control/sandboxes") as? [[String: Any]] ?? [] }
    func killCommands() throws { _ = try control("/_control/kill", body: [String: Any]()) }
    func breakSandbox(_ id: String, reason: String) throws { _ = try control("/_control/error", body: ["sandbox": id, "reason": reason]) }
    func reset() throws { _ = try control("/_control/reset", body: [String: Any]()) }
    var live: Int { ((try? stats())?["live"] as? Int) ?? -1 }

    private func control(_ path: String, body: Any? = nil) throws -> Any {
        var request = URLRequest(url: URL(string: base + path)!)
        if let body {
            request.httpMethod = "POST"
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Data?
        URLSession.shared.dataTask(with: request) { data, _, _ in
            result = data
            semaphore.signal()
        }.resume()
        semaphore.wait()
        return try JSONSerialization.jsonObject(with: result ?? Data("null".utf8), options: .fragmentsAllowed)
    }
}
