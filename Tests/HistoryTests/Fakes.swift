import Foundation
import RLMCommon
@testable import LanguageModels
import RLMEngine
import Sandboxes

/// A model that answers from a script, in order.
actor ScriptedModel: LanguageModel {
    private var replies: [String]

    init(_ replies: [String]) { self.replies = replies }

    nonisolated func complete(_ request: ChatRequest) async throws(LLMError) -> ChatResponse {
        let text = await next()
        return ChatResponse(text: text, model: request.model, usage: .init(inputTokens: 1000, outputTokens: 500), latency: .milliseconds(1),
                            attempts: 1, finishReason: "stop")
    }

    private func next() -> String {
        replies.isEmpty ? "```python\nprint('idle')\n```" : replies.removeFirst()
    }
}

/// A sandbox that plays back execution results; sub-calls named in a result's stdout as `ASK:<prompt>` are made first.
actor StubSandbox: Sandbox {
    private var results: [ExecResult]
    private var uploads: [String: Data] = [:]

    init(_ results: [ExecResult]) { self.results = results }

    func execute(_ request: ExecRequest) async throws -> ExecResult {
        let result = results.isEmpty ? ExecResult.output("") : results.removeFirst()
        if result.stdout.hasPrefix("ASK:") { _ = await request.onSubCall(.llmQuery(prompt: String(result.stdout.dropFirst(4)), model: nil)) }
        return result
    }
    func resetNamespace(_ name: String) async {}
    func loadVariable(_ variable: String, fromFile path: String, kind: String, namespace: String, timeout: Duration) async throws -> LoadedVariable {
        LoadedVariable(type: "str", length: uploads[path]?.count ?? 0)
    }
    func uploadFile(path: String, data: Data) async throws(SandboxError) -> Int {
        uploads[path] = data
        return data.count
    }
    func removeFile(path: String) async throws(SandboxError) { uploads[path] = nil }
    func downloadFile(path: String, maxBytes: Int) async throws(SandboxError) -> Data { throw .notFound(path) }
    func listFiles(path: String, recursive: Bool) async throws(SandboxError) -> [FileEntry] { [] }
    func shell(command: String, cwd: String?, timeout: Duration) async throws -> ShellResult { throw SandboxError.io("no shell") }
    func status() async -> SandboxStatus { SandboxStatus(backend: "stub", state: "running", isolation: "none", namespaces: [], workers: 0) }
    func shutdown() async {}
}

extension ExecResult {
    static func output(_ stdout: String, submitted: String? = nil) -> ExecResult {
        ExecResult(stdout: stdout, stderr: "", error: nil, submitted: submitted.flatMap { JSONValue.parse(Data($0.utf8))?.objectValue }, truncated: false, durationMS: 1)
    }
}

/// A fresh folder under the system's temporary directory, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "rlm-history-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
