import Foundation
import RLMCommon

/// Where the Daytona API is and how sandboxes are made there; the key is sent only as a bearer token.
public struct DaytonaSettings: Sendable {
    public var apiURL: String
    /// Never logged or shown; `description` hides it.
    public var apiKey: String
    /// Region (`target`), e.g. "us" or "eu"; nil lets the organisation's default decide.
    public var target: String?
    /// Snapshot for new sandboxes; nil means the server's default snapshot.
    public var snapshot: String?
    /// Minutes of inactivity before Daytona stops a sandbox (0 would disable it).
    public var autoStopMinutes = 15
    /// Minutes after stopping before Daytona deletes it; 0 deletes at once, so a crashed server leaks nothing for long.
    public var autoDeleteMinutes = 0
    /// What the sandbox may reach on the network. Workers need none (sub-calls travel through the host), so it is
    /// blocked unless the operator opens it: LLM-written code could otherwise send the context anywhere.
    public var network: SandboxNetwork = .blocked
    /// How long creation may take before it is given up (and the half-made sandbox deleted).
    public var createTimeout: Duration = .seconds(120)
    /// Backoff for the calls `DaytonaClient.RetryRule` allows to repeat: shorter than a model call's (0.2 s base, 5 s cap).
    public var retry = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(200), maxDelay: .seconds(5), jitterFloor: 0.5)

    public init(apiURL: String, apiKey: String, target: String? = nil, snapshot: String? = nil) {
        self.apiURL = apiURL.hasSuffix("/") ? String(apiURL.dropLast()) : apiURL
        self.apiKey = apiKey
        self.target = target
        self.snapshot = snapshot
    }
}

/// A Daytona sandbox's network access (`networkBlockAll` / `networkAllowList` on creation).
public enum SandboxNetwork: Sendable, Equatable {
    case blocked
    case open
    /// Only these destinations (IPv4 CIDRs such as 10.0.0.0/8).
    case allowList([String])

    /// The creation-request fields that ask for this access.
    var requestFields: [String: JSONValue] {
        switch self {
        case .blocked: ["networkBlockAll": .bool(true)]
        case .open: ["networkBlockAll": .bool(false)]
        case let .allowList(cidrs): ["networkBlockAll": .bool(false), "networkAllowList": .string(cidrs.joined(separator: ","))]
        }
    }
}

extension DaytonaSettings: CustomStringConvertible, CustomDebugStringConvertible {
    /// Everything but the key, so settings can be logged.
    public var description: String {
        "DaytonaSettings(apiURL: \(apiURL), apiKey: <hidden, \(apiKey.count) chars>, target: \(target ?? "default"), "
            + "snapshot: \(snapshot ?? "default"), network: \(network), autoStop: \(autoStopMinutes) min, autoDelete: \(autoDeleteMinutes) min)"
    }

    public var debugDescription: String { description }
}
