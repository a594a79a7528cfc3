import AsyncHTTPClient
import Foundation
import RLMCommon
import NIOCore

/// What `rlm-mcp deploy` needs beyond worker sandboxes: a long-lived sandbox with environment variables, its preview
/// link, stopping it, and listing a session's commands.
extension DaytonaClient {
    /// Creates a private sandbox whose processes get `environment` (secrets travel only in this request, never in a
    /// file), without auto-stop or auto-delete: a deployment lives until it is stopped or deleted.
    public func createSandbox(labels: [String: String], environment: [String: String]) async throws -> DaytonaSandboxInfo {
        var body: [String: JSONValue] = [
            "labels": .object(labels.mapValues(JSONValue.string)),
            "env": .object(environment.mapValues(JSONValue.string)),
            "public": .bool(false),
            "autoStopInterval": .int(0),
            "autoDeleteInterval": .int(-1),
            // The deployed server itself calls the model providers; its workers stay in local sandboxes without network.
            "networkBlockAll": .bool(false),
        ]
        if let target = settings.target { body["target"] = .string(target) }
        if let snapshot = settings.snapshot { body["snapshot"] = .string(snapshot) }
        let response = try await call(.POST, "\(settings.apiURL)/sandbox", body: Self.json(body), retry: .rateLimitOnly,
                                      operation: "creating the deployment sandbox")
        return try decode(DaytonaSandboxInfo.self, response, operation: "creating the deployment sandbox")
    }

    /// The standard preview link of `port`: its URL, and the token a private sandbox's proxy wants in the
    /// `x-daytona-preview-token` header (it changes when the sandbox restarts).
    public func previewLink(sandbox id: String, port: Int) async throws -> DaytonaPreviewLink {
        let response = try await call(.GET, "\(settings.apiURL)/sandbox/\(Self.pathComponent(id))/ports/\(port)/preview-url",
                                      retry: .idempotent, operation: "reading the preview link of port \(port)")
        return try decode(DaytonaPreviewLink.self, response, operation: "reading the preview link of port \(port)")
    }

    /// Stops a sandbox (its processes end; its files stay until it is deleted).
    public func stopSandbox(_ id: String) async throws {
        _ = try await call(.POST, "\(settings.apiURL)/sandbox/\(Self.pathComponent(id))/stop", retry: .idempotent,
                           operation: "stopping sandbox \(id)")
    }

    /// The commands a session has run, oldest first.
    public func sessionCommands(toolbox: String, session: String) async throws -> [DaytonaSessionCommand] {
        struct Session: Decodable { var commands: [DaytonaSessionCommand]? }
        let response = try await call(.GET, "\(toolbox)/process/session/\(Self.pathComponent(session))", retry: .idempotent,
                                      operation: "reading session \(session)")
        return try decode(Session.self, response, operation: "reading session \(session)").commands ?? []
    }
}

/// A preview URL and the token that opens it.
public struct DaytonaPreviewLink: Sendable, Equatable, Decodable {
    public var url: String
    public var token: String?
}

/// One command a session ran.
public struct DaytonaSessionCommand: Sendable, Equatable, Decodable {
    public var id: String
    public var command: String?
    public var exitCode: Int?
}

extension DaytonaClient {
    /// A GET to a deployed server through its preview link, carrying only the preview token and the server's own
    /// bearer token: never the Daytona key, which belongs to the API alone.
    public func previewGet(_ url: String, previewToken: String?, bearer: String?, timeout: Duration = .seconds(10)) async throws -> PreviewAnswer {
        var request = HTTPClientRequest(url: url)
        if let previewToken { request.headers.add(name: "x-daytona-preview-token", value: previewToken) }
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout.milliseconds)))
        let body = try await response.body.collect(upTo: 1024 * 1024)
        return PreviewAnswer(status: Int(response.status.code), body: String(buffer: body))
    }
}

/// What a deployed server answered through its preview link.
public struct PreviewAnswer: Sendable, Equatable {
    public let status: Int
    public let body: String
}
