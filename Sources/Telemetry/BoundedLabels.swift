import Foundation

/// Keeps a label whose values a client can choose (a tool's `model` argument) from minting unbounded series: the
/// first `limit` distinct values pass, later new ones read `other`.
final class BoundedLabels: @unchecked Sendable {
    private let limit: Int
    // NSLock rather than Synchronization.Mutex, which needs macOS 15 (the package supports 14). Guards `seen`.
    private let lock = NSLock()
    private var seen: Set<String> = []

    init(limit: Int) { self.limit = limit }

    func label(_ value: String) -> String {
        lock.withLock {
            if seen.contains(value) { return value }
            guard seen.count < limit else { return "other" }
            seen.insert(value)
            return value
        }
    }
}
