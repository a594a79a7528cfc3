/// Durations as the numbers logs, results, metrics and timeouts report: one conversion instead of one per module.
extension Duration {
    /// The duration in milliseconds, fractions kept.
    public var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
    /// The duration in seconds, fractions kept.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    /// Whole nanoseconds (saturating arithmetic is not needed: runs are far shorter than the ~292 years an Int64 holds).
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

extension ContinuousClock.Instant {
    /// Milliseconds elapsed since this instant, fractions kept.
    public var millisecondsAgo: Double { (ContinuousClock.now - self).milliseconds }
    /// Seconds elapsed since this instant, fractions kept.
    public var secondsAgo: Double { (ContinuousClock.now - self).seconds }
}
