import Foundation
import Synchronization

/// The server-wide cap on live workers, shared by the pools of every sandbox. Each live worker holds a
/// `WorkerQuota.Permit`; past the cap the least recently used idle namespace of any pool is stopped to make room, and
/// when every worker is busy a new one is refused with an error that says so. A client therefore cannot exhaust the
/// host's memory or process table by opening namespaces or workspaces, hostile code or not.
public final class WorkerQuota: Sendable {
    /// One live worker's share of the quota, given back when the permit goes away.
    public final class Permit: Sendable {
        private let quota: WorkerQuota
        fileprivate init(quota: WorkerQuota) { self.quota = quota }
        deinit { quota.state.withLock { $0.live -= 1 } }
    }

    private struct State {
        var live = 0
        var pools: [ObjectIdentifier: WeakPool] = [:]
    }

    private struct WeakPool {
        weak var pool: WorkerPool?
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Live workers now (spares included).
    public var live: Int { state.withLock { $0.live } }

    /// A permit when the cap allows one more worker; nil when full.
    package func tryPermit() -> Permit? {
        let granted = state.withLock { state -> Bool in
            guard state.live < capacity else { return false }
            state.live += 1
            return true
        }
        return granted ? Permit(quota: self) : nil
    }

    /// A permit, making room when the cap is reached (a warm spare first, else the least recently
    /// used idle namespace of any pool); nil when every
    /// worker is busy.
    package func permit() async -> Permit? {
        // Bounded: each round frees one slot or finds none to free.
        for _ in 0..<8 {
            if let permit = tryPermit() { return permit }
            guard await evictLeastRecentlyUsed() else { return tryPermit() }
        }
        return tryPermit()
    }

    func register(_ pool: WorkerPool) {
        state.withLock { $0.pools[ObjectIdentifier(pool)] = WeakPool(pool: pool) }
    }

    func unregister(_ pool: WorkerPool) {
        _ = state.withLock { $0.pools.removeValue(forKey: ObjectIdentifier(pool)) }
    }

    private func evictLeastRecentlyUsed() async -> Bool {
        let pools = state.withLock { state in
            state.pools = state.pools.filter { $0.value.pool != nil }
            return state.pools.values.compactMap(\.pool)
        }
        // A warm spare holds no one's state: give those up before anybody's namespace.
        for pool in pools where await pool.dropSpare() { return true }
        var oldest: IdleNamespace?
        for pool in pools {
            if let candidate = await pool.leastRecentlyUsedIdle(), oldest.map({ candidate.lastUsed < $0.lastUsed }) ?? true {
                oldest = candidate
            }
        }
        guard let oldest else { return false }
        return await oldest.pool.evict(oldest)
    }
}
