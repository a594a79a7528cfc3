/// How many tokens a model's context window holds, so that an oversized sub-prompt is refused with advice and the root
/// conversation is compacted before the provider rejects it. Known families by name; the overrides
/// (RLM_SUB_CONTEXT_TOKENS, RLM_ROOT_CONTEXT_TOKENS) win.
public struct ModelWindows: Sendable {
    /// The sub model's window (RLM_SUB_CONTEXT_TOKENS); also the root window of child runs, whose root is the sub model.
    public var override: Int?
    /// The root model's window (RLM_ROOT_CONTEXT_TOKENS).
    public var rootOverride: Int?
    /// The share of the root window a request may fill before older iterations are compacted (RLM_COMPACTION_THRESHOLD).
    public var compactionThreshold: Double
    /// Tokens kept free for the model's answer.
    public var answerReserve: Int

    public init(override: Int? = nil, rootOverride: Int? = nil, compactionThreshold: Double = 0.85, answerReserve: Int = 4096) {
        self.override = override
        self.rootOverride = rootOverride
        self.compactionThreshold = compactionThreshold
        self.answerReserve = answerReserve
    }

    /// The window of `model` when it answers sub-calls.
    public func contextTokens(of model: String) -> Int { override ?? Self.familyTokens(of: model) }

    /// The window of `model` when it is the root model of a top-level run.
    public func rootContextTokens(of model: String) -> Int { rootOverride ?? Self.familyTokens(of: model) }

    /// The window by model family; 128k for names not known.
    static func familyTokens(of model: String) -> Int {
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
