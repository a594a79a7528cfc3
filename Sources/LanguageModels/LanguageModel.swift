import Foundation

/// The engine's only door to models: messages in, text and token usage out. Vendors live behind it.
public protocol LanguageModel: Sendable {
    func complete(_ request: ChatRequest) async throws(LLMError) -> ChatResponse
}

public struct ChatMessage: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

public struct ChatRequest: Sendable, Equatable {
    /// A routed model id: `openai/gpt-4o`, `anthropic/claude-sonnet-4-5`, or a bare name for the OpenAI-compatible endpoint.
    public var model: String
    public var messages: [ChatMessage]
    public var maxTokens: Int
    public var temperature: Double?
    /// Which setting chose the model (e.g. `RLM_MODEL`), so errors can say what to change.
    public var modelSource: String

    public init(model: String, messages: [ChatMessage], maxTokens: Int = 4096, temperature: Double? = nil, modelSource: String = "the model argument") {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.modelSource = modelSource
    }
}

public struct TokenUsage: Sendable, Equatable, Codable {
    public var inputTokens: Int
    public var outputTokens: Int

    public init(inputTokens: Int, outputTokens: Int) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

public struct ChatResponse: Sendable, Equatable {
    public var text: String
    /// The routed id the request asked for.
    public var model: String
    public var usage: TokenUsage
    /// Wall time of the whole call, retries and waits included.
    public var latency: Duration
    /// HTTP attempts made (1 when nothing was retried).
    public var attempts: Int
    public var finishReason: String?
}

/// Why a model call failed, worded so the user knows what to change. Never contains a key.
public enum LLMError: Error, Equatable, CustomStringConvertible {
    case notConfigured(String)
    case rejectedCredentials(variable: String, baseURL: String, status: Int)
    case modelNotFound(model: String, source: String, baseURL: String, status: Int)
    case requestRejected(baseURL: String, status: Int, message: String)
    case gaveUp(baseURL: String, attempts: Int, lastProblem: String)
    case malformedResponse(baseURL: String, detail: String)
    case cancelled

    public var description: String {
        switch self {
        case let .notConfigured(message):
            message
        case let .rejectedCredentials(variable, baseURL, status):
            "\(variable) was rejected by \(baseURL) (\(status)); check the key and that it belongs to this endpoint"
        case let .modelNotFound(model, source, baseURL, status):
            "model \"\(model)\" was not found at \(baseURL) (\(status)); it was set by \(source)"
        case let .requestRejected(baseURL, status, message):
            "\(baseURL) rejected the request (\(status)): \(message)"
        case let .gaveUp(baseURL, attempts, lastProblem):
            "\(baseURL) did not answer successfully after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(lastProblem)"
        case let .malformedResponse(baseURL, detail):
            "\(baseURL) answered with something that is not a valid completion: \(detail)"
        case .cancelled:
            "the model call was cancelled"
        }
    }
}
