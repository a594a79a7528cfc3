/// A named namespace no call is using, offered for eviction: the pool that holds it, its name, and when it was last
/// used (so the eviction can see that it was used again since it was chosen).
struct IdleNamespace: Sendable {
    let pool: WorkerPool
    let name: String
    let lastUsed: ContinuousClock.Instant
}
