/// How many tokens a model's context window holds, so that an oversized sub-prompt is refused with advice before
/// the provider rejects it. Known families by name; `override` (RLM_SUB_CONTEXT_TOKENS) wins.
public struct ModelWindows: Sendable {
    public var override: Int?
    /// Tokens kept free for the model's answer.
    public var answerReserve: Int

    public init(override: Int? = nil, answerReserve: Int = 4096) {
        self.override = override
        self.answerReserve = answerReserve
    }

    public func contextTokens(of model: String) -> Int {
        if let override { return override }
        let name = model.split(separator: "/").last.map { $0.lowercased() } ?? model.lowercased()
        let known: [(prefix: String, tokens: Int)] = [
            ("gpt-4.1", 1_000_000), ("gpt-5", 400_000), ("gpt-4o", 128_000), ("gpt-4-turbo", 128_000),
            ("o1", 200_000), ("o3", 200_000), ("o4", 200_000), ("claude", 200_000), ("gemini", 1_000_000),
        ]
        return known.first { name.hasPrefix($0.prefix) }?.tokens ?? 128_000
    }

    /// The room a prompt may take in `model`'s window, in tokens.
    public func promptBudget(of model: String) -> Int { max(1, contextTokens(of: model) - answerReserve) }

    /// A rough count: about four characters per token, the usual average for English text and code.
    public static func estimatedTokens(_ text: String) -> Int { (text.utf8.count + 3) / 4 }

    /// Characters that fit in one prompt to `model`, for chunking advice.
    public func promptChars(of model: String) -> Int { promptBudget(of: model) * 4 }
}
