import AsyncHTTPClient
import Foundation
import Logging
import RLMCommon
import RLMConfig

/// Anthropic Messages (`POST {base}/v1/messages`): the system prompt travels as the `system` field, `max_tokens` is
/// required, and every request carries `anthropic-version`.
public struct AnthropicMessagesClient: ProviderClient {
    public static let apiVersion = "2023-06-01"
    let http: ProviderHTTP

    /// `baseURL` without the version path, e.g. `https://api.anthropic.com`.
    public init(baseURL: String, apiKey: String, client: @escaping @autoclosure @Sendable () -> HTTPClient = .shared, retry: RetryPolicy = .init(),
                timeout: Duration = .seconds(300), logger: Logger) {
        http = ProviderHTTP(client: client, baseURL: baseURL, headers: [("x-api-key", apiKey), ("anthropic-version", Self.apiVersion)],
                            retry: retry, timeout: timeout, logger: logger, secrets: [apiKey], provider: "anthropic")
    }

    private struct Body: Encodable {
        struct Message: Encodable {
            let role: String
            let content: String
        }
        let model: String
        let max_tokens: Int
        let system: String?
        let messages: [Message]
        let temperature: Double?
    }

    private struct Reply: Decodable {
        struct Block: Decodable {
            let type: String
            let text: String?
        }
        struct Usage: Decodable {
            let input_tokens: Int?
            let output_tokens: Int?
        }
        let content: [Block]
        let usage: Usage?
        let stop_reason: String?
    }

    func complete(_ request: ChatRequest, model: String) async throws(LLMError) -> ProviderReply {
        let system = request.messages.filter { $0.role == .system }.map(\.content).joined(separator: "\n\n")
        let turns = request.messages.filter { $0.role != .system }.map { Body.Message(role: $0.role.rawValue, content: $0.content) }
        let body = Body(model: model, max_tokens: request.maxTokens, system: system.isEmpty ? nil : system, messages: turns,
                        temperature: request.temperature)
        let answer = try await http.exchange("/v1/messages", body, as: Reply.self, keyVariable: "ANTHROPIC_API_KEY",
                                             model: model, modelSource: request.modelSource)
        let reply = answer.reply
        let text = reply.content.filter { $0.type == "text" }.compactMap(\.text).joined()
        let usage = TokenUsage(inputTokens: reply.usage?.input_tokens ?? 0, outputTokens: reply.usage?.output_tokens ?? 0)
        return ProviderReply(text: text, usage: usage, attempts: answer.attempts, finishReason: reply.stop_reason)
    }
}

extension ModelProvider {
    /// `anthropic/<model>`: the Anthropic Messages API, which always needs a key.
    static let anthropic = ModelProvider(
        name: "anthropic",
        setupHint: { config, model, source in
            guard config.anthropicAPIKey == nil else { return nil }
            return "\(source) is \(model): set ANTHROPIC_API_KEY, or choose an OpenAI-compatible model with \(source)."
        },
        makeClient: { config, transport in
            config.anthropicAPIKey.map {
                AnthropicMessagesClient(baseURL: config.anthropicBaseURL, apiKey: $0.exposedValue, client: transport.client(),
                                        retry: transport.retry, timeout: transport.timeout, logger: transport.logger)
            }
        }
    )
}
