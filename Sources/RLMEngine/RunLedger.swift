import Foundation
import LanguageModels

/// The budgets a root run and its child runs draw from together, and the usage they recorded.
actor RunLedger {
    let limits: RunLimits
    let deadline: ContinuousClock.Instant
    let prices: PriceTable
    private(set) var calls = 0
    private(set) var usage = Usage()
    /// The first budget that ran out, worded for the user; nil while every budget holds.
    private(set) var exhausted: String?

    init(limits: RunLimits, startedAt: ContinuousClock.Instant, prices: PriceTable = .defaults) {
        self.limits = limits
        self.prices = prices
        deadline = startedAt + limits.timeout
    }

    /// Takes `count` model calls from the budget, or says which budget is spent.
    func reserve(_ count: Int) throws(BudgetExhausted) {
        if let exhausted { throw BudgetExhausted(message: exhausted) }
        guard calls + count <= limits.maxLLMCalls else {
            let message = count == 1 || calls >= limits.maxLLMCalls
                ? "budget exhausted: max_llm_calls=\(limits.maxLLMCalls) reached"
                : "budget exhausted: \(count) more calls would pass max_llm_calls=\(limits.maxLLMCalls) (\(limits.maxLLMCalls - calls) left); send fewer prompts per batch"
            if calls >= limits.maxLLMCalls { exhausted = message }
            throw BudgetExhausted(message: message)
        }
        calls += count
    }

    func record(_ response: ChatResponse) {
        usage.add(model: response.model, input: response.usage.inputTokens, output: response.usage.outputTokens)
        if let maxTokens = limits.maxTotalTokens, usage.totalTokens >= maxTokens, exhausted == nil {
            exhausted = "budget exhausted: max_total_tokens=\(maxTokens) reached (\(usage.totalTokens) tokens used)"
        }
        usage.costUSD = prices.cost(of: usage)
        if let maxCost = limits.maxCostUSD, let spent = prices.knownCost(of: usage), spent >= maxCost, exhausted == nil {
            exhausted = "budget exhausted: max_cost_usd=\(Self.dollars(maxCost)) reached ($\(Self.dollars(spent)) spent)"
        }
    }

    /// An amount without trailing zeros: 0.5, 0.00005.
    static func dollars(_ amount: Double) -> String {
        var text = String(format: "%.6f", amount)
        while text.hasSuffix("0") { text.removeLast() }
        return text.hasSuffix(".") ? String(text.dropLast()) : text
    }

    /// What is left of the wall-clock budget.
    var remainingTime: Duration { max(.zero, deadline - .now) }
    var callsLeft: Int { max(0, limits.maxLLMCalls - calls) }
}

/// A budget ran out; `message` says which one.
struct BudgetExhausted: Error {
    let message: String
}
