import LanguageModels
import Logging
import RLMConfig

extension RLMEngine {
    /// The engine the configuration describes: models routed by provider prefix, sub-calls bounded by
    /// `RLM_SUB_CONCURRENCY` across every run of this engine, windows and compaction from the RLM_* variables. The
    /// server builds one for all its sessions; `rlm-mcp run` builds one for its run.
    public init(config: RLMConfig, logger: Logger, recorder: any RunRecorder = NoRunRecorder(), prices: PriceTable = .defaults) {
        // The cost metric prices calls with the same table as the run's money budget.
        let router = ModelRouter(config: config, logger: logger, pricing: { model in prices.price(of: model) })
        let subCalls = ConcurrencyLimit(permits: config.subConcurrency)
        self.init(rootModel: router, subModel: BoundedLanguageModel(router, limit: subCalls),
                  windows: ModelWindows(override: config.subContextTokens, rootOverride: config.rootContextTokens,
                                        compactionThreshold: config.compactionThreshold),
                  recorder: recorder, prices: prices)
    }
}

extension RunLimits {
    /// The configured budgets (RLM_MAX_ITERATIONS, RLM_MAX_DEPTH, RLM_MAX_LLM_CALLS, RLM_MAX_TOTAL_TOKENS, RLM_TIMEOUT_S,
    /// RLM_MAX_COST_USD), which a caller may then override per run.
    public init(config: RLMConfig) {
        self.init(maxIterations: config.maxIterations, maxDepth: config.maxDepth, maxLLMCalls: config.maxLLMCalls,
                  maxTotalTokens: config.maxTotalTokens, timeout: .seconds(config.runTimeoutSeconds), maxCostUSD: config.maxCostUSD)
    }
}
