/// One compaction of the root conversation, as the trajectory records it.
public struct Compaction: Sendable, Codable, Equatable {
    public enum Method: String, Sendable, Codable {
        /// The sub model wrote the summary (one call, counted against the run's budgets).
        case subModel = "sub_model"
        /// Built from the steps without a model call: the budget forbade one, or the call failed (`note` says which).
        case mechanical
        /// Nothing was folded; only a step too big to send was cut.
        case cutOnly = "cut_only"
    }

    /// The iteration whose request was compacted.
    public var iteration: Int
    /// Estimated tokens of the request before and after.
    public var tokensBefore: Int
    public var tokensAfter: Int
    /// The root model's window and the limit (window × threshold) the request had to fit.
    public var windowTokens: Int
    public var limitTokens: Int
    public var method: Method
    /// The iterations now covered by the summary.
    public var summarizedIterations: [Int]
    /// Characters cut from a step that alone did not fit.
    public var cutCharacters: Int
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case iteration, tokensBefore = "tokens_before", tokensAfter = "tokens_after", windowTokens = "window_tokens"
        case limitTokens = "limit_tokens", method, summarizedIterations = "summarized_iterations", cutCharacters = "cut_characters", note
    }
}
