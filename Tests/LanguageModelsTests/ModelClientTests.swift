import Foundation
import Logging
import RLMCommon
import RLMConfig
import Testing
@testable import LanguageModels

/// Every client against the scripted fake LLM (scripts/fakes/fake_llm.py), whose wire format the official SDKs prove.
@Suite(.serialized) struct ModelClientTests {
    static let openAIKey = "sk-canary-openai-9f8e7d6c5b4a"
    static let anthropicKey = "sk-ant-canary-1a2b3c4d5e6f"
    let logs = CapturedLogs()

    private func router(_ fake: FakeLLM, retry: RetryPolicy = .init(maxAttempts: 4, baseDelay: .milliseconds(10)),
                        timeout: Duration = .seconds(30), extra: [String: String] = [:]) throws -> ModelRouter {
        var values = ["OPENAI_API_KEY": Self.openAIKey, "OPENAI_BASE_URL": fake.url + "/v1",
                      "ANTHROPIC_API_KEY": Self.anthropicKey, "ANTHROPIC_BASE_URL": fake.url]
        values.merge(extra) { $1 }
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: values)]))
        return ModelRouter(config: config, retry: retry, timeout: timeout, logger: logs.logger)
    }

    private func ask(_ model: String, _ text: String = "hello", system: String? = nil) -> ChatRequest {
        ChatRequest(model: model, messages: (system.map { [ChatMessage(.system, $0)] } ?? []) + [ChatMessage(.user, text)],
                    maxTokens: 256, modelSource: "RLM_MODEL")
    }

    @Test func openAIHappyPathReportsTextUsageAndLatency() async throws {
        let fake = try FakeLLM(script: ["root": ["replies": [["text": "forty-two", "input_tokens": 11, "output_tokens": 7]]]])
        let response = try await router(fake).complete(ask("openai/gpt-4o", "the answer?", system: "be exact"))
        #expect(response.text == "forty-two")
        #expect(response.usage == TokenUsage(inputTokens: 11, outputTokens: 7))
        #expect(response.attempts == 1 && response.latency > .zero && response.model == "openai/gpt-4o")
        let request = try #require(try fake.log().first)
        #expect((request["headers"] as? [String: String])?["authorization"] == "Bearer \(Self.openAIKey)")
        let body = try #require(request["body"] as? [String: Any])
        #expect(body["model"] as? String == "gpt-4o" && body["max_tokens"] as? Int == 256)
        #expect((body["messages"] as? [[String: String]])?.map { $0["role"]! } == ["system", "user"])
    }

    @Test func anthropicSendsSystemFieldVersionHeaderAndMaxTokens() async throws {
        let fake = try FakeLLM(script: ["root": ["rules": [["contains": "JUDGE", "in": "system", "reply": "judged"]]]])
        let response = try await router(fake).complete(ask("anthropic/claude-sonnet-4-5", "2+2=4", system: "You are a JUDGE"))
        #expect(response.text == "judged" && response.usage.inputTokens > 0 && response.usage.outputTokens > 0)
        let request = try #require(try fake.log().first)
        #expect(request["path"] as? String == "/v1/messages")
        let headers = try #require(request["headers"] as? [String: String])
        #expect(headers["x-api-key"] == Self.anthropicKey && headers["anthropic-version"] == AnthropicMessagesClient.apiVersion)
        let body = try #require(request["body"] as? [String: Any])
        #expect(body["system"] as? String == "You are a JUDGE" && body["max_tokens"] as? Int == 256)
        #expect(body["model"] as? String == "claude-sonnet-4-5")
        #expect((body["messages"] as? [[String: String]])?.map { $0["role"]! } == ["user"])
    }

    @Test func bareNamesGoToTheOpenAICompatibleEndpointUnchanged() async throws {
        let fake = try FakeLLM()
        _ = try await router(fake).complete(ask("meta-llama/Llama-3.3-70B"))
        let request = try #require(try fake.log().first)
        #expect(request["api"] as? String == "openai")
        #expect((request["body"] as? [String: Any])?["model"] as? String == "meta-llama/Llama-3.3-70B")
    }

    @Test(arguments: ["429", "500", "503", "408", "drop"])
    func transientFailuresAreRetried(kind: String) async throws {
        let fake = try FakeLLM()
        let fault: [String: Any] = kind == "429" ? ["type": kind, "retry_after": 0] : ["type": kind]
        try fake.faults([fault, fault])
        let response = try await router(fake).complete(ask("openai/gpt-4o"))
        #expect(response.text == "OK" && response.attempts == 3)
        #expect(try fake.log().count == 3)
    }

    @Test func retryAfterIsHonoured() async throws {
        let fake = try FakeLLM()
        try fake.faults([["type": "429", "retry_after": 1]])
        let response = try await router(fake).complete(ask("anthropic/claude-haiku-4-5"))
        #expect(response.attempts == 2)
        let times = try fake.log().compactMap { $0["started"] as? Double }
        #expect(times.count == 2 && times[1] - times[0] >= 0.95)
    }

    @Test func aSlowReplyPastTheTimeoutIsRetried() async throws {
        let fake = try FakeLLM()
        try fake.faults([["type": "slow", "delay_s": 3]])
        let response = try await router(fake, timeout: .seconds(1)).complete(ask("openai/gpt-4o"))
        #expect(response.text == "OK" && response.attempts == 2)
    }

    @Test func persistentFailuresGiveUpAfterTheLastAttempt() async throws {
        let fake = try FakeLLM()
        try fake.faults(Array(repeating: ["type": "503"], count: 10))
        await #expect(throws: LLMError.gaveUp(baseURL: fake.url + "/v1", attempts: 4, lastProblem: "HTTP 503")) {
            try await router(fake).complete(ask("openai/gpt-4o"))
        }
        #expect(try fake.log().count == 4)
    }

    @Test func aRejectedKeyNamesTheVariableAndIsNotRetried() async throws {
        let fake = try FakeLLM()
        try fake.faults([["type": "401", "message": "Incorrect API key provided: \(Self.openAIKey)"]])
        do {
            _ = try await router(fake).complete(ask("openai/gpt-4o"))
            Issue.record("no error")
        } catch {
            #expect("\(error)" == "OPENAI_API_KEY was rejected by \(fake.url)/v1 (401); check the key and that it belongs to this endpoint")
        }
        try fake.faults([["type": "401"]])
        await #expect(throws: LLMError.rejectedCredentials(variable: "ANTHROPIC_API_KEY", baseURL: fake.url, status: 401)) {
            try await router(fake).complete(ask("anthropic/claude-haiku-4-5"))
        }
        #expect(try fake.log().count == 2)
    }

    @Test func anUnknownModelSaysWhichSettingChoseIt() async throws {
        let fake = try FakeLLM()
        try fake.faults([["type": "404"]])
        await #expect(throws: LLMError.modelNotFound(model: "gpt-9", source: "RLM_MODEL", baseURL: fake.url + "/v1", status: 404)) {
            try await router(fake).complete(ask("openai/gpt-9"))
        }
    }

    @Test func otherClientErrorsCarryTheProvidersMessageWithoutTheKey() async throws {
        let fake = try FakeLLM()
        try fake.faults([["type": "400", "message": "max_tokens too large for key \(Self.openAIKey)"]])
        do {
            _ = try await router(fake).complete(ask("openai/gpt-4o"))
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("max_tokens too large") && !"\(error)".contains(Self.openAIKey))
        }
        #expect(try fake.log().count == 1)
    }

    @Test func malformedJSONIsReportedNotRetried() async throws {
        let fake = try FakeLLM()
        try fake.faults([["type": "malformed"]])
        await #expect(throws: LLMError.self) { try await router(fake).complete(ask("openai/gpt-4o")) }
        #expect(try fake.log().count == 1)
    }

    @Test func missingCredentialsSayWhatToSet() async throws {
        let config = try RLMConfig(variables: LayeredVariables(layers: []))
        let router = ModelRouter(config: config, logger: logs.logger)
        await #expect(throws: LLMError.notConfigured("RLM_MODEL is anthropic/claude-sonnet-4-5: set ANTHROPIC_API_KEY, or choose an OpenAI-compatible model with RLM_MODEL.")) {
            try await router.complete(ask("anthropic/claude-sonnet-4-5"))
        }
        await #expect(throws: LLMError.notConfigured("RLM_MODEL is openai/gpt-4o: set OPENAI_API_KEY, or point OPENAI_BASE_URL at an OpenAI-compatible server "
                                                  + "(vLLM, Ollama, LM Studio), or set ANTHROPIC_API_KEY and RLM_MODEL=anthropic/<model>.")) {
            try await router.complete(ask("openai/gpt-4o"))
        }
    }

    @Test func aKeylessLocalServerIsUsable() async throws {
        let fake = try FakeLLM()
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "t", values: ["OPENAI_BASE_URL": fake.url + "/v1"])]))
        #expect(try await ModelRouter(config: config, logger: logs.logger).complete(ask("llama3")).text == "OK")
        #expect((try fake.log().first?["headers"] as? [String: String])?["authorization"] == nil)
    }

    @Test func batchedCallsNeverExceedTheSharedBound() async throws {
        let fake = try FakeLLM(script: ["root": ["default": ["text": "done", "delay_s": 0.2]]])
        let model = BoundedLanguageModel(try router(fake), limit: ConcurrencyLimit(permits: 3))
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<12 { group.addTask { try await model.complete(ask("openai/gpt-4o-mini", "q\(index)")).text } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(answers == Array(repeating: "done", count: 12))
        #expect(try fake.stats()["max_in_flight"] as? Int == 3)
    }

    @Test func cancellingACallStopsItPromptly() async throws {
        let fake = try FakeLLM(script: ["root": ["default": ["text": "late", "delay_s": 20]]])
        let router = try router(fake)
        let call = Task { try await router.complete(ask("openai/gpt-4o")) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        call.cancel()
        await #expect(throws: LLMError.self) { try await call.value }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func keysNeverReachTheLogs() async throws {
        let fake = try FakeLLM()
        try fake.faults([["type": "503"], ["type": "drop"], ["type": "401", "message": "bad key \(Self.openAIKey)"]])
        _ = try? await router(fake).complete(ask("openai/gpt-4o"))
        _ = try? await router(fake).complete(ask("anthropic/claude-haiku-4-5"))
        let text = logs.text
        #expect(!text.isEmpty)
        #expect(!text.contains(Self.openAIKey) && !text.contains(Self.anthropicKey))
    }
}

/// Collects every log line at trace level, to check what reaches logs.
final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var logger: Logger {
        var logger = Logger(label: "test") { _ in Handler(sink: self) }
        logger.logLevel = .trace
        return logger
    }

    var text: String { lock.withLock { lines.joined(separator: "\n") } }

    func add(_ line: String) { lock.withLock { lines.append(line) } }

    struct Handler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.add("\(event.level) \(event.message) \(event.metadata ?? [:])")
        }
    }
}
