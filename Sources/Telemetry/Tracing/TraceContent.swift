import Synchronization

/// Whether spans may carry prompts and model outputs (`RLM_TRACE_CONTENT=1`). Off by default: a context or a
/// prompt may hold what its owner would not send to a tracing backend.
public enum TraceContent {
    private static let enabled = Atomic<Bool>(false)

    /// Set once at start-up, before the first request.
    public static func configure(recordPromptsAndOutputs: Bool) {
        enabled.store(recordPromptsAndOutputs, ordering: .relaxed)
    }

    public static var isRecorded: Bool { enabled.load(ordering: .relaxed) }
}
