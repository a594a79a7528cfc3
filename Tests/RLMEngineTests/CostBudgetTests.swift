import Foundation
import Testing
@testable import RLMEngine

@Suite struct CostBudgetTests {
    let models = RunModels(root: "openai/priced", sub: "openai/priced")
    /// $1 per million input tokens, $2 per million output: each scripted call (10 in, 5 out) costs $0.00002.
    let prices = PriceTable(prices: ["priced": .init(input: 1, output: 2)])

    @Test func aRunStopsWithBudgetExceededOnceItsCostReachesMaxCostUSD() async throws {
        let model = ScriptedModel([])
        let engine = RLMEngine(rootModel: model, subModel: model, prices: prices)
        let limits = RunLimits(maxIterations: 10, maxCostUSD: 0.00005)
        let result = try await engine.run(RunRequest(task: "spend", models: models, limits: limits), sandbox: { StubSandbox([]) })
        #expect(result.status == .budgetExceeded)
        #expect(result.message?.contains("max_cost_usd=0.00005 reached ($0.00006 spent)") == true)
        #expect(result.iterations == 3)
        #expect(abs((result.usage.costUSD ?? 0) - 0.00006) < 1e-12)
    }

    @Test func withoutAMoneyBudgetTheCostIsReportedButNothingStops() async throws {
        let model = ScriptedModel(["```python\nSUBMIT(answer=1)\n```"])
        let engine = RLMEngine(rootModel: model, subModel: model, prices: prices)
        let result = try await engine.run(RunRequest(task: "t", models: models, limits: .init()),
                                          sandbox: { StubSandbox([.output("", submitted: #"{"answer": 1}"#)]) })
        #expect(result.status == .submitted)
        #expect(abs((result.usage.costUSD ?? 0) - 0.00002) < 1e-12)
    }

    @Test func anUnpricedModelLeavesTheCostUnknown() async throws {
        let model = ScriptedModel(["```python\nSUBMIT(answer=1)\n```"])
        let engine = RLMEngine(rootModel: model, subModel: model, prices: prices)
        let unpriced = RunModels(root: "openai/mystery", sub: "openai/mystery")
        let result = try await engine.run(RunRequest(task: "t", models: unpriced, limits: .init()),
                                          sandbox: { StubSandbox([.output("", submitted: #"{"answer": 1}"#)]) })
        #expect(result.usage.costUSD == nil)
    }

    @Test func pricesMatchDatedModelNamesAndProviderPrefixes() {
        let table = PriceTable.defaults
        #expect(table.price(of: "openai/gpt-4o-2024-08-06") == table.price(of: "gpt-4o"))
        #expect(table.price(of: "gpt-4o-mini-2024-07-18") == .init(input: 0.15, output: 0.60))
        #expect(table.price(of: "anthropic/claude-sonnet-4-5-20250929") == .init(input: 3, output: 15))
        #expect(table.price(of: "llama-3") == nil)
    }

    @Test func aPriceFileOverridesAndExtendsTheDefaults() throws {
        let path = NSTemporaryDirectory() + "prices-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"openai/gpt-4o": {"input": 1, "output": 1}, "llama-3": {"input": 0.1, "output": 0.2}}"#.utf8).write(to: URL(fileURLWithPath: path))
        let table = try PriceTable.loading(file: path)
        #expect(table.price(of: "gpt-4o") == .init(input: 1, output: 1))
        #expect(table.price(of: "llama-3") == .init(input: 0.1, output: 0.2))
        #expect(table.price(of: "gpt-4o-mini") == .init(input: 0.15, output: 0.60))
    }

    @Test func aMalformedPriceFileIsRefusedNamingTheVariable() throws {
        let path = NSTemporaryDirectory() + "prices-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"gpt-4o": {"input": -1, "output": 1}}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect { try PriceTable.loading(file: path) } throws: { "\($0)".contains("RLM_PRICES_FILE") && "\($0)".contains("non-negative") }
        #expect { try PriceTable.loading(file: path + ".missing") } throws: { "\($0)".contains("no such readable file") }
    }
}
