import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs one of scripts/fakes on a free loopback port for one test, and talks to its `/_control` endpoints.
public final class LoopbackFake: @unchecked Sendable {
    /// The URL the fake announced (`… listening on URL`).
    public let url: String
    private let process: Process
    private let stopSignal: Int32

    /// `stopSignal`: what ends the fake when the test is done. Foundation's `waitUntilExit` spins forever off the main
    /// thread on Linux, so the fake is signalled and Foundation reaps it.
    public init(script: String, arguments: [String], stopSignal: Int32 = SIGKILL) throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repo.appendingPathComponent("scripts/fakes/\(script)").path, "--port", "0"] + arguments
        self.stopSignal = stopSignal
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        guard let address = line.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines), address.hasPrefix("http") else {
            kill(process.processIdentifier, SIGKILL)
            throw FakeError.didNotStart(line)
        }
        url = address
    }

    deinit {
        kill(process.processIdentifier, stopSignal)
    }

    public enum FakeError: Error { case didNotStart(String) }

    /// GETs `base + path`, or POSTs `body` as JSON; returns the decoded JSON answer.
    public func control(_ path: String, base: String? = nil, body: Any? = nil) throws -> Any {
        var request = URLRequest(url: URL(string: (base ?? url) + path)!)
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
