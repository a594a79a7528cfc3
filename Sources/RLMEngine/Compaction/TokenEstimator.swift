import LanguageModels

/// Estimates how many tokens a root request takes: four characters per token, scaled up when the provider has reported
/// more input tokens than that for an earlier request of the run (never down, so the estimate stays conservative).
struct TokenEstimator: Sendable, Equatable {
    /// Reported tokens per estimated token, at least 1.
    private(set) var scale = 1.0
    /// Tokens a message costs beyond its text (role markers, separators).
    static let perMessage = 4

    func tokens(_ text: String) -> Int { Int((Double(ModelWindows.estimatedTokens(text)) * scale).rounded(.up)) }

    func tokens(_ messages: [ChatMessage]) -> Int { messages.reduce(0) { $0 + tokens($1.content) + Self.perMessage } }

    /// Learns from the provider's count of the input tokens of `messages`; a count of 0 (not reported) teaches nothing.
    mutating func calibrate(sent messages: [ChatMessage], reportedInputTokens reported: Int) {
        guard reported > 0 else { return }
        let raw = messages.reduce(0) { $0 + ModelWindows.estimatedTokens($1.content) + Self.perMessage }
        guard raw > 0 else { return }
        // Capped: a provider that counts cached or tool tokens oddly must not make every request look enormous.
        scale = min(4, max(1, Double(reported) / Double(raw)))
    }
}
