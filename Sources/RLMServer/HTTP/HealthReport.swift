import RLMCommon
import RLMConfig

/// The body of `GET /health`: what load balancers and `docker compose` probe, written with the project's own JSON writer.
struct HealthReport: Equatable {
    let status = "ok"
    let version = RLMVersion.current
    /// Seconds since start-up, to the millisecond.
    let uptimeSeconds: Double

    init(uptime seconds: Double) {
        uptimeSeconds = (seconds * 1000).rounded() / 1000
    }

    var body: JSONValue {
        ["status": .string(status), "version": .string(version), "uptime_s": .double(uptimeSeconds)]
    }
}
