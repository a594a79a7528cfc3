import AsyncHTTPClient
import Logging
import RLMCommon
import RLMConfig

/// The one table of model providers: the router and the configuration's readiness checks both read it.
public enum ModelProviders {
    /// Every provider; add a new one here (its entry and client live in its own client file).
    static let all: [ModelProvider] = [.openAI, .anthropic]
    /// Where an id without a known `provider/` prefix goes: the OpenAI-compatible endpoint (bare names such as `llama3`).
    static let fallback = ModelProvider.openAI

    /// The provider of `modelID` and the provider's own name for the model (the prefix removed).
    public static func route(_ modelID: String) -> ModelRoute {
        for provider in all where modelID.hasPrefix(provider.prefix) {
            return ModelRoute(provider: provider, model: String(modelID.dropFirst(provider.prefix.count)))
        }
        return ModelRoute(provider: fallback, model: modelID)
    }
}

/// Where a model id goes: its provider, and the provider's own name for the model.
public struct ModelRoute: Sendable {
    public let provider: ModelProvider
    /// The id without the `provider/` prefix (`gpt-4o` for `openai/gpt-4o`).
    public let model: String
}

/// One model provider: the id prefix that selects it, what to set when it cannot be called, and how to build its client.
public struct ModelProvider: Sendable {
    /// What the router hands a provider's client: the HTTP client (resolved on first use), retries, timeout, logger.
    struct Transport: Sendable {
        let client: @Sendable () -> HTTPClient
        let retry: RetryPolicy
        let timeout: Duration
        let logger: Logger
    }

    public let name: String
    /// `name/`: the prefix of the model ids this provider serves.
    var prefix: String { name + "/" }
    /// What to set so `model` (chosen by `source`, e.g. RLM_MODEL or a tool argument) can be called; nil when it can.
    let setupHint: @Sendable (_ config: RLMConfig, _ model: String, _ source: String) -> String?
    /// The provider's client; nil when the configuration lacks what it needs (then `setupHint` says what).
    let makeClient: @Sendable (_ config: RLMConfig, _ transport: Transport) -> (any ProviderClient)?
}

/// What the router needs from a provider's client: one chat completion under the provider's own model name.
protocol ProviderClient: Sendable {
    func complete(_ request: ChatRequest, model: String) async throws(LLMError) -> ProviderReply
}

/// A provider's answer before the router adds what every provider shares (the routed model id, the latency).
struct ProviderReply: Sendable, Equatable {
    let text: String
    let usage: TokenUsage
    /// HTTP attempts made (1 when nothing was retried).
    let attempts: Int
    /// The provider's own word for why generation stopped (`stop`, `length`, `end_turn`, …), when it gives one.
    let finishReason: String?
}

extension RLMConfig {
    /// Whether the root model can be called: its provider has a key, or it is an OpenAI-compatible
    /// endpoint other than OpenAI's own (local servers such as Ollama or vLLM usually need no key).
    public var llmConfigured: Bool { llmSetupHint == nil }

    /// What to set so the root model can be called; nil when it already can.
    public var llmSetupHint: String? { setupHint(forModel: model, setBy: "RLM_MODEL") }

    /// What to set so `model` (chosen by `source`, e.g. RLM_SUBTASK_MODEL or a tool argument) can be called; nil when it can.
    public func setupHint(forModel model: String, setBy source: String) -> String? {
        ModelProviders.route(model).provider.setupHint(self, model, source)
    }
}
