import Foundation
import RLMCommon
import NIOHTTP1

/// Sandbox lifecycle on the main API: create, wait until started, get, list by label, delete.
extension DaytonaClient {
    /// Creates a sandbox with `labels` (plus the SDK's language label), the configured target, snapshot and network
    /// access, and the auto-stop/auto-delete intervals that bound a leak.
    public func createSandbox(labels: [String: String]) async throws -> DaytonaSandboxInfo {
        var body: [String: JSONValue] = [
            "labels": .object(labels.merging(["code-toolbox-language": "python"]) { mine, _ in mine }.mapValues(JSONValue.string)),
            "env": .object([:]),
            "public": .bool(false),
            "autoStopInterval": .int(settings.autoStopMinutes),
            "autoDeleteInterval": .int(settings.autoDeleteMinutes),
        ].merging(settings.network.requestFields) { $1 }
        if let target = settings.target { body["target"] = .string(target) }
        if let snapshot = settings.snapshot { body["snapshot"] = .string(snapshot) }
        let response = try await call(.POST, "\(settings.apiURL)/sandbox", body: Self.json(body), retry: .rateLimitOnly,
                                      operation: "creating a sandbox")
        return try decode(DaytonaSandboxInfo.self, response, operation: "creating a sandbox")
    }

    public func sandbox(_ id: String) async throws -> DaytonaSandboxInfo {
        let response = try await call(.GET, "\(settings.apiURL)/sandbox/\(Self.pathComponent(id))", retry: .idempotent,
                                      operation: "reading sandbox \(id)")
        return try decode(DaytonaSandboxInfo.self, response, operation: "reading sandbox \(id)")
    }

    /// Polls until the sandbox is `started` (first poll at once, then 100 ms growing ×1.5 to 1 s), failing on
    /// `error`/`build_failed`/`destroyed` with Daytona's `errorReason`, or after `timeout`.
    public func waitUntilStarted(_ created: DaytonaSandboxInfo, timeout: Duration) async throws -> DaytonaSandboxInfo {
        var info = created
        var delay: Duration = .milliseconds(100)
        let deadline = ContinuousClock.now + timeout
        while info.state != "started" {
            if info.hasFailed {
                throw DaytonaError.sandboxFailed(id: info.id, state: info.state, reason: info.errorReason ?? "")
            }
            guard ContinuousClock.now < deadline else {
                throw DaytonaError.startTimeout(id: info.id, state: info.state, waited: timeout)
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 1.5, .seconds(1))
            info = try await sandbox(info.id)
        }
        return info
    }

    /// Deletes a sandbox; one that is already gone counts as deleted.
    public func deleteSandbox(_ id: String) async throws {
        _ = try await call(.DELETE, "\(settings.apiURL)/sandbox/\(Self.pathComponent(id))", retry: .idempotent,
                           operation: "deleting sandbox \(id)", accept: { (200...299).contains($0) || $0 == 404 })
    }

    /// Every sandbox carrying all of `labels`, across pages.
    public func listSandboxes(labels: [String: String]) async throws -> [DaytonaSandboxInfo] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let labelJSON = String(decoding: try encoder.encode(labels), as: UTF8.self)
        var cursor: String?
        var all: [DaytonaSandboxInfo] = []
        repeat {
            var items = [("labels", labelJSON), ("limit", "100")]
            if let cursor { items.append(("cursor", cursor)) }
            let response = try await call(.GET, "\(settings.apiURL)/sandbox" + Self.query(items), retry: .idempotent, operation: "listing sandboxes")
            let page = try decode(SandboxPage.self, response, operation: "listing sandboxes")
            all += page.items
            cursor = page.nextCursor.flatMap { $0.isEmpty ? nil : $0 }
        } while cursor != nil && all.count < 100_000
        return all
    }

    /// `{toolboxProxyUrl}/{id}`: the base of every toolbox call for this sandbox, asking the API when the DTO has none.
    public func toolboxBase(for info: DaytonaSandboxInfo) async throws -> String {
        var proxy = info.toolboxProxyURL ?? ""
        if proxy.isEmpty {
            struct ProxyURL: Decodable { var url: String }
            let response = try await call(.GET, "\(settings.apiURL)/sandbox/\(Self.pathComponent(info.id))/toolbox-proxy-url",
                                          retry: .idempotent, operation: "finding the toolbox of sandbox \(info.id)")
            proxy = try decode(ProxyURL.self, response, operation: "finding the toolbox").url
        }
        while proxy.hasSuffix("/") { proxy.removeLast() }
        return "\(proxy)/\(Self.pathComponent(info.id))"
    }
}

extension Duration {
    static func * (lhs: Duration, rhs: Double) -> Duration {
        .milliseconds(Int(lhs.milliseconds * rhs))
    }
}
