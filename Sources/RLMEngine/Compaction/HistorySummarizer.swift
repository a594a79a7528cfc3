import LanguageModels

/// Asks the sub model, in one call counted against the run's budgets, to summarise the iterations being compacted;
/// says why not when the budgets cannot spare the call or the call fails, so a mechanical summary is used instead.
struct HistorySummarizer: Sendable {
    let model: any LanguageModel
    let modelName: String
    let modelSource: String
    let ledger: RunLedger
    /// Characters of history the summary prompt may carry (the sub model's window, capped to keep the call cheap).
    let materialChars: Int

    func summarize(task: String, previous: String?, folded: [RootHistory.Exchange], allowanceTokens: Int) async -> Result<String, Refusal> {
        let prompt = Self.prompt(task: task, previous: previous, folded: folded, materialChars: materialChars, words: allowanceTokens / 2)
        if let refusal = await refusal(promptTokens: ModelWindows.estimatedTokens(prompt), answerTokens: allowanceTokens) {
            return .failure(refusal)
        }
        do {
            try await ledger.reserve(1)
        } catch {
            return .failure(Refusal(reason: error.message))
        }
        do {
            let response = try await model.complete(ChatRequest(model: modelName, messages: [.init(.user, prompt)], maxTokens: allowanceTokens,
                                                                modelSource: modelSource))
            await ledger.record(response)
            let text = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? .failure(Refusal(reason: "the sub model's summary was empty")) : .success(text)
        } catch {
            return .failure(Refusal(reason: "the sub model's summary call failed: \(error.description)"))
        }
    }

    /// Why the budgets cannot spare a summary call: the root model's next call comes first, and the token budget must
    /// hold this call twice over.
    private func refusal(promptTokens: Int, answerTokens: Int) async -> Refusal? {
        if let exhausted = await ledger.exhausted { return Refusal(reason: exhausted) }
        let callsLeft = await ledger.callsLeft
        if callsLeft < 2 {
            return Refusal(reason: "no LLM call left for a summary (max_llm_calls=\(ledger.limits.maxLLMCalls); the root model's next call comes first)")
        }
        if let maxTokens = ledger.limits.maxTotalTokens {
            let left = maxTokens - (await ledger.usage.totalTokens)
            let needed = promptTokens + answerTokens
            if left < 2 * needed { return Refusal(reason: "\(left) tokens left of max_total_tokens=\(maxTokens); a summary call needs about \(needed)") }
        }
        return nil
    }

    static func prompt(task: String, previous: String?, folded: [RootHistory.Exchange], materialChars: Int, words: Int) -> String {
        let share = max(400, (materialChars - 3000) / max(1, folded.count))
        var history = previous.map { "Summary of the iterations before these:\n\($0)\n\n" } ?? ""
        for exchange in folded {
            history += "## Iteration \(exchange.iteration)\nThe model wrote:\n\(TextCut.cut(exchange.reply, toChars: share / 3))\n"
                + "The code's output:\n\(TextCut.cut(exchange.observation, toChars: share - share / 3))\n\n"
        }
        return """
            A model is solving a task by writing Python that runs in a REPL. Its conversation has grown too long for its \
            context window, so the iterations below will be replaced by your summary. Write that summary, at most about \
            \(words) words, so the model can carry on without them: the key findings the code printed (exact numbers, \
            names and values), what was tried and failed and why, and what is left to do. Do not list the REPL's \
            variables (they are listed separately, from the REPL itself) and do not add anything the output does not show.

            The task: \(TextCut.cut(task, toChars: 2000))

            \(history)
            """
    }

    struct Refusal: Error, Equatable {
        let reason: String
    }
}
