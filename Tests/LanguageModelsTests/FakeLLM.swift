import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs scripts/fakes/fake_llm.py on a free loopback port for one test.
final class FakeLLM: @unchecked Sendable {
    let url: String
    private let process: Process
    private let scriptFile: URL

    init(script: [String: Any] = [:]) throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        scriptFile = FileManager.default.temporaryDirectory.appendingPathComponent("fake-llm-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: script).write(to: scriptFile)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repo.appendingPathComponent("scripts/fakes/fake_llm.py").path, "--port", "0", "--script", scriptFile.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let address = line.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines), address.hasPrefix("http") else {
            process.terminate()
            throw FakeError.didNotStart(line)
        }
        url = address
    }

    deinit {
        // Foundation's waitUntilExit spins forever off the main thread on Linux; the process is reaped by Foundation.
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(at: scriptFile)
    }

    enum FakeError: Error { case didNotStart(String) }

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
        var request = URLRequest(url: URL(string: url + path)!)
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
