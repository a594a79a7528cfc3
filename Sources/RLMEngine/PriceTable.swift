import Foundation
import LanguageModels

/// USD per million input and output tokens, per model: what turns a run's usage into `cost_usd`.
public struct PriceTable: Sendable, Equatable {
    /// The same price the model clients use for the cost metric.
    public typealias Price = ModelPrice

    /// Keyed by bare model name (no `openai/` or `anthropic/` prefix).
    public var prices: [String: Price]

    public init(prices: [String: Price]) {
        self.prices = Dictionary(prices.map { (Self.bare($0.key), $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// List prices of common models (per million tokens, input / output), as published by the vendors in 2025.
    public static let defaults = PriceTable(prices: [
        "gpt-4o": .init(input: 2.50, output: 10.00),
        "gpt-4o-mini": .init(input: 0.15, output: 0.60),
        "gpt-4.1": .init(input: 2.00, output: 8.00),
        "gpt-4.1-mini": .init(input: 0.40, output: 1.60),
        "gpt-4.1-nano": .init(input: 0.10, output: 0.40),
        "gpt-5": .init(input: 1.25, output: 10.00),
        "gpt-5-mini": .init(input: 0.25, output: 2.00),
        "gpt-5-nano": .init(input: 0.05, output: 0.40),
        "o3": .init(input: 2.00, output: 8.00),
        "o4-mini": .init(input: 1.10, output: 4.40),
        "claude-opus-4-1": .init(input: 15.00, output: 75.00),
        "claude-opus-4": .init(input: 15.00, output: 75.00),
        "claude-sonnet-4-5": .init(input: 3.00, output: 15.00),
        "claude-sonnet-4": .init(input: 3.00, output: 15.00),
        "claude-3-7-sonnet": .init(input: 3.00, output: 15.00),
        "claude-haiku-4-5": .init(input: 1.00, output: 5.00),
        "claude-3-5-haiku": .init(input: 0.80, output: 4.00),
    ])

    /// The price of `model`: an exact match on the bare name, else the longest listed name it starts with
    /// (providers answer with dated names such as `gpt-4o-2024-08-06`).
    public func price(of model: String) -> Price? {
        let name = Self.bare(model)
        if let exact = prices[name] { return exact }
        let match = prices.keys.filter { name.hasPrefix($0 + "-") }.max { $0.count < $1.count }
        return match.flatMap { prices[$0] }
    }

    /// What `usage` cost, counting only the models with a known price; nil when no model's price is known.
    public func knownCost(of usage: Usage) -> Double? {
        var total = 0.0, known = false
        for (model, use) in usage.models {
            guard let price = price(of: model) else { continue }
            known = true
            total += price.cost(TokenUsage(inputTokens: use.inputTokens, outputTokens: use.outputTokens))
        }
        return known ? total : nil
    }

    /// What `usage` cost; nil unless every model's price is known (a partial sum would understate it).
    public func cost(of usage: Usage) -> Double? {
        guard !usage.models.isEmpty, usage.models.keys.allSatisfy({ price(of: $0) != nil }) else { return nil }
        return knownCost(of: usage)
    }

    /// Reads a JSON file `{"model": {"input": 2.5, "output": 10}, …}` and lays it over the defaults.
    public static func loading(file path: String) throws -> PriceTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PriceFileError(message: "RLM_PRICES_FILE \(path): no such readable file")
        }
        let entries: [String: Price]
        do {
            entries = try JSONDecoder().decode([String: Price].self, from: data)
        } catch {
            throw PriceFileError(message: "RLM_PRICES_FILE \(path): expected a JSON object like {\"gpt-4o\": {\"input\": 2.5, \"output\": 10}} "
                + "(USD per million tokens); \(error)")
        }
        for (model, price) in entries where !(price.input >= 0 && price.output >= 0 && price.input.isFinite && price.output.isFinite) {
            throw PriceFileError(message: "RLM_PRICES_FILE \(path): the prices of \(model) must be non-negative numbers")
        }
        var table = defaults
        for (model, price) in entries { table.prices[bare(model)] = price }
        return table
    }

    static func bare(_ model: String) -> String {
        guard let slash = model.firstIndex(of: "/") else { return model }
        return String(model[model.index(after: slash)...])
    }
}

/// The price file could not be used; `message` names the file and what to fix.
public struct PriceFileError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
