import Foundation

/// What rlm-mcp reads of a Daytona sandbox. Decoding is lenient: only `id` is required, unknown fields are ignored
/// and unknown states are kept as text.
public struct DaytonaSandboxInfo: Sendable, Equatable, Decodable {
    public var id: String
    public var state: String
    public var errorReason: String?
    public var toolboxProxyURL: String?
    public var target: String?
    public var labels: [String: String]

    enum CodingKeys: String, CodingKey {
        case id, state, errorReason, toolboxProxyUrl, target, labels
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        state = (try? container.decodeIfPresent(String.self, forKey: .state)) ?? "unknown"
        errorReason = try? container.decodeIfPresent(String.self, forKey: .errorReason)
        toolboxProxyURL = try? container.decodeIfPresent(String.self, forKey: .toolboxProxyUrl)
        target = try? container.decodeIfPresent(String.self, forKey: .target)
        labels = (try? container.decodeIfPresent([String: String].self, forKey: .labels)) ?? [:]
    }

    /// States after which the sandbox will never become `started` by waiting.
    public var hasFailed: Bool { ["error", "build_failed", "destroyed", "destroying"].contains(state) }
}

struct SandboxPage: Decodable {
    var items: [DaytonaSandboxInfo]
    var nextCursor: String?
}

/// A file or directory in the sandbox, as the toolbox lists it.
public struct DaytonaFileInfo: Sendable, Equatable, Decodable {
    public var name: String
    public var path: String?
    public var isDir: Bool
    public var size: Int
    /// ISO 8601 (newer daemons); `modTime` is Go's time layout and is not parsed.
    public var modifiedAt: String?

    enum CodingKeys: String, CodingKey { case name, path, isDir, size, modifiedAt }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        path = try? container.decodeIfPresent(String.self, forKey: .path)
        isDir = (try? container.decodeIfPresent(Bool.self, forKey: .isDir)) ?? false
        size = (try? container.decodeIfPresent(Int.self, forKey: .size)) ?? 0
        modifiedAt = try? container.decodeIfPresent(String.self, forKey: .modifiedAt)
    }
}

/// The answer of `process/execute`: `result` is stdout and stderr combined.
public struct DaytonaExecuteResult: Sendable, Equatable {
    public var exitCode: Int
    public var result: String
}

/// One command of a session.
public struct DaytonaCommandInfo: Sendable, Equatable, Decodable {
    public var id: String?
    public var exitCode: Int?
}

/// The whole log of a session command so far (non-follow logs).
public struct DaytonaCommandLogs: Sendable, Equatable, Decodable {
    public var stdout: String
    public var stderr: String

    enum CodingKeys: String, CodingKey { case stdout, stderr, output }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        stdout = (try? container.decodeIfPresent(String.self, forKey: .stdout)) ?? (try? container.decodeIfPresent(String.self, forKey: .output)) ?? ""
        stderr = (try? container.decodeIfPresent(String.self, forKey: .stderr)) ?? ""
    }
}
