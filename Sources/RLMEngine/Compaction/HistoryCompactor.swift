import LanguageModels

/// Keeps every root request within the root model's window (DESIGN §3.6b): past the threshold it folds the oldest
/// iterations into a summary (the REPL's variables, read from the REPL, plus findings and failures by the sub model or
/// mechanically) and cuts a latest step that alone cannot fit.
struct HistoryCompactor: Sendable {
    let windowTokens: Int
    let threshold: Double
    let summarizer: HistorySummarizer

    /// A compaction carried out: the history to send from now on, and the record the step reports.
    struct Compacted: Sendable {
        let history: RootHistory
        let record: Compaction
    }

    /// Tokens a request may take before it is compacted.
    var limit: Int { Int(Double(windowTokens) * threshold) }

    func decide(_ history: RootHistory, extra: String?, estimator: TokenEstimator) -> CompactionPlanner.Decision {
        var fixed = [ChatMessage(.system, history.system), ChatMessage(.user, history.task)]
        if let extra { fixed.append(ChatMessage(.user, extra)) }
        let summary = history.summary.map { estimator.tokens("\n\n" + RootHistory.render($0)) } ?? 0
        return CompactionPlanner.plan(
            limit: limit, fixed: estimator.tokens(fixed), summary: summary, exchanges: history.exchanges.map { exchangeTokens($0, estimator) },
            summaryAllowance: CompactionPlanner.summaryAllowance(limit: limit)
        )
    }

    /// Carries out a `.compact` decision; `inventory` reads the REPL's variables when iterations are folded.
    func compact(_ history: RootHistory, fold: Int, cutLatestTo: Int?, iteration: Int, extra: String?, estimator: TokenEstimator,
                 inventory: @Sendable () async -> ReplInventory) async -> Compacted {
        var compacted = history
        var method = Compaction.Method.cutOnly
        var note: String?
        if fold > 0 {
            let folded = Array(history.exchanges.prefix(fold))
            let allowance = CompactionPlanner.summaryAllowance(limit: limit)
            // Room in characters for the summary text, less its fixed header.
            let allowanceChars = max(400, Int(Double(allowance * 4) / estimator.scale) - 300)
            let variables = await inventory().rendered(limit: allowanceChars / 2)
            let bodyChars = max(200, allowanceChars - variables.count)
            let body: String
            switch await summarizer.summarize(task: history.task, previous: history.summary?.body, folded: folded, allowanceTokens: bodyChars / 4) {
            case let .success(text):
                body = TextCut.cut(text, toChars: bodyChars)
                method = .subModel
            case let .failure(refusal):
                let outlines = ([history.summary?.body].compactMap { $0 } + folded.map(\.outline)).joined(separator: "\n")
                body = TextCut.cut(outlines, toChars: bodyChars)
                method = .mechanical
                note = refusal.reason
            }
            compacted.summary = RootHistory.Summary(
                firstIteration: history.summary?.firstIteration ?? folded[0].iteration, lastIteration: folded[fold - 1].iteration,
                body: body, variables: variables
            )
            compacted.exchanges.removeFirst(fold)
        }
        var cutCharacters = 0
        if let cutLatestTo, var latest = compacted.exchanges.popLast() {
            let before = latest.reply.count + latest.observation.count
            latest = cut(latest, toTokens: cutLatestTo, estimator: estimator)
            cutCharacters = before - latest.reply.count - latest.observation.count
            compacted.exchanges.append(latest)
        }
        let record = Compaction(
            iteration: iteration, tokensBefore: estimator.tokens(history.messages(extra: extra)),
            tokensAfter: estimator.tokens(compacted.messages(extra: extra)), windowTokens: windowTokens, limitTokens: limit,
            method: method, summarizedIterations: compacted.summary.map { Array($0.firstIteration...$0.lastIteration) } ?? [],
            cutCharacters: cutCharacters, note: note
        )
        return Compacted(history: compacted, record: record)
    }

    private func exchangeTokens(_ exchange: RootHistory.Exchange, _ estimator: TokenEstimator) -> Int {
        estimator.tokens(exchange.reply) + estimator.tokens(exchange.observation) + 2 * TokenEstimator.perMessage
    }

    /// Cuts the reply to at most a third of the room when it is longer, and the observation to the rest; shrinks again
    /// while the estimate (multi-byte text counts more) is still over.
    private func cut(_ exchange: RootHistory.Exchange, toTokens tokens: Int, estimator: TokenEstimator) -> RootHistory.Exchange {
        var chars = Int(Double(max(0, tokens - 2 * TokenEstimator.perMessage) * 4) / estimator.scale)
        var result = exchange
        for _ in 0..<8 {
            let replyChars = min(exchange.reply.count, max(chars / 3, chars - exchange.observation.count))
            result.reply = TextCut.cut(exchange.reply, toChars: replyChars)
            result.observation = TextCut.cut(exchange.observation, toChars: max(0, chars - result.reply.count))
            if exchangeTokens(result, estimator) <= tokens { break }
            chars = chars * 3 / 4
        }
        return result
    }
}
