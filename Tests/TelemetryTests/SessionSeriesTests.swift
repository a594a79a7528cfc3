import Testing
@testable import Telemetry

/// The series a fresh server shows before any session: the handshake era's gauge at 0, and no 2026-07-28 series
/// (that era has no sessions, so its gauge could only ever read 0).
@Suite struct SessionSeriesTests {
    @Test func onlyTheHandshakeEraHasASessionsGauge() {
        MetricsExposition.bootstrap()
        let scrape = MetricsExposition.shared.render()
        #expect(scrape.contains(#"rlm_sessions_open{era="handshake"} 0"#))
        #expect(!scrape.contains("2026-07-28"))
    }
}
