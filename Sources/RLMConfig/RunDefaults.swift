/// The one set of run-budget defaults: the RLM_* variables fall back to these, and so does the engine's `RunLimits()`.
public enum RunDefaults {
    public static let maxIterations = 15
    public static let maxDepth = 1
    public static let maxLLMCalls = 100
    public static let timeoutSeconds = 600
}
