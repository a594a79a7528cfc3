import AsyncHTTPClient
import Foundation
import Logging
import RLMCommon
import RLMConfig

/// OpenAI Chat Completions (`POST {base}/chat/completions`), which vLLM, Ollama, LM Studio, OpenRouter and most
/// gateways also speak.
public struct OpenAIChatClient: ProviderClient {
    let http: ProviderHTTP

    /// `baseURL` includes the version path, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    public init(baseURL: String, apiKey: String?, client: @escaping @autoclosure @Sendable () -> HTTPClient = .shared, retry: RetryPolicy = .init(),
                timeout: Duration = .seconds(300), logger: Logger) {
        http = ProviderHTTP(client: client, baseURL: baseURL, headers: apiKey.map { [("authorization", "Bearer \($0)")] } ?? [],
                            retry: retry, timeout: timeout, logger: logger, secrets: apiKey.map { [$0] } ?? [])
    }

    private struct Body: Encodable {
        let model: String
        let messages: [ChatMessage]
        let max_tokens: Int
        let temperature: Double?
    }

    private struct Reply: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { let content: String? }
            let message: Message
            let finish_reason: String?
        }
        struct Usage: Decodable {
            let prompt_tokens: Int?
            let completion_tokens: Int?
        }
        let choices: [Choice]
        let usage: Usage?
    }

    /// `model` is the provider's own name (the router strips `openai/`).
    func complete(_ request: ChatRequest, model: String) async throws(LLMError) -> ProviderReply {
        let body = Body(model: model, messages: request.messages, max_tokens: request.maxTokens, temperature: request.temperature)
        let answer = try await http.exchange("/chat/completions", body, as: Reply.self, keyVariable: "OPENAI_API_KEY",
                                             model: model, modelSource: request.modelSource)
        let reply = answer.reply
        guard let choice = reply.choices.first else {
            throw .malformedResponse(baseURL: http.baseURL, detail: "the answer has no choices")
        }
        let usage = TokenUsage(inputTokens: reply.usage?.prompt_tokens ?? 0, outputTokens: reply.usage?.completion_tokens ?? 0)
        return ProviderReply(text: choice.message.content ?? "", usage: usage, attempts: answer.attempts, finishReason: choice.finish_reason)
    }
}

extension ModelProvider {
    /// `openai/<model>` and every bare name: OpenAI itself needs a key, a self-hosted OpenAI-compatible server usually not.
    static let openAI = ModelProvider(
        name: "openai",
        setupHint: { config, model, source in
            guard config.openAIAPIKey == nil, config.openAIBaseURL == "https://api.openai.com/v1" else { return nil }
            return "\(source) is \(model): set OPENAI_API_KEY, or point OPENAI_BASE_URL at an OpenAI-compatible server "
                + "(vLLM, Ollama, LM Studio), or set ANTHROPIC_API_KEY and \(source)=anthropic/<model>."
        },
        makeClient: { config, transport in
            OpenAIChatClient(baseURL: config.openAIBaseURL, apiKey: config.openAIAPIKey?.exposedValue, client: transport.client(),
                             retry: transport.retry, timeout: transport.timeout, logger: transport.logger)
        }
    )
}
