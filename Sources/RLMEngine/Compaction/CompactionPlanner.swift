/// Decides, from token counts alone, whether the root request fits and otherwise how many of the oldest iterations to
/// fold into the summary and how far the latest one must be cut. Pure, so its arithmetic is tested on its own.
enum CompactionPlanner {
    enum Decision: Equatable {
        case fits
        /// Fold the `fold` oldest exchanges into the summary; when `cutLatestTo` is set, cut the latest exchange to that
        /// many tokens (it alone does not fit beside the fixed messages and the summary).
        case compact(fold: Int, cutLatestTo: Int?)
        /// The fixed messages (system prompt, task, the fallback question) leave no room for any iteration.
        case tooSmall(fixedTokens: Int)
    }

    /// Tokens an exchange gets at least: below this the latest step would be cut to nothing useful.
    static let minimumExchangeTokens = 256
    /// After a compaction the request aims at this share of the limit, so that compaction does not happen every iteration.
    static let target = 0.6

    /// - Parameters:
    ///   - limit: tokens a request may take (the window times the threshold).
    ///   - fixed: tokens of the messages always sent verbatim.
    ///   - summary: tokens of the current summary, 0 when there is none.
    ///   - exchanges: tokens of each verbatim exchange, oldest first.
    ///   - summaryAllowance: tokens a new summary may take.
    static func plan(limit: Int, fixed: Int, summary: Int, exchanges: [Int], summaryAllowance: Int) -> Decision {
        let verbatim = exchanges.reduce(0, +)
        if fixed + summary + verbatim <= limit { return .fits }
        let summaryRoom = max(summary, summaryAllowance)
        guard !exchanges.isEmpty, fixed + summaryRoom + minimumExchangeTokens <= limit else { return .tooSmall(fixedTokens: fixed) }
        let goal = Int(Double(limit) * target)
        var keep = exchanges.count
        var kept = verbatim
        // The latest exchange always stays: it holds the output the model is about to act on.
        while keep > 1, fixed + summaryAllowance + kept > goal {
            kept -= exchanges[exchanges.count - keep]
            keep -= 1
        }
        let fold = exchanges.count - keep
        let summaryTokens = fold > 0 ? summaryAllowance : summary
        let room = limit - fixed - summaryTokens
        return .compact(fold: fold, cutLatestTo: kept > room ? max(minimumExchangeTokens, room - (kept - exchanges[exchanges.count - 1])) : nil)
    }

    /// Tokens a summary may take within `limit`: a sixth, between 256 and 2,000.
    static func summaryAllowance(limit: Int) -> Int { min(2000, max(256, limit / 6)) }
}
