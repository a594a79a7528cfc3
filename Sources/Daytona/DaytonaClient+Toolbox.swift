import Foundation
import NIOHTTP1
import RLMCommon

/// The toolbox of one sandbox: one-shot commands, sessions with async commands, and files. `toolbox` is
/// `DaytonaClient.toolboxBase(for:)`.
extension DaytonaClient {
    // MARK: - Process

    /// Runs a shell command to completion. The timeout is always explicit (the daemon's default is 10 s) and the HTTP
    /// wait is 5 s longer; a timeout comes back as HTTP 408. Never retried except on 429: it may have run.
    public func execute(toolbox: String, command: String, cwd: String?, timeout: Duration) async throws -> DaytonaExecuteResult {
        var body: [String: JSONValue] = ["command": .string(command), "timeout": .int(max(1, Int(timeout.components.seconds)))]
        if let cwd { body["cwd"] = .string(cwd) }
        let response = try await call(.POST, "\(toolbox)/process/execute", body: Self.json(body), retry: .rateLimitOnly,
                                      operation: "running a command", timeout: timeout + .seconds(5))
        guard let object = JSONValue.parse(response.data)?.objectValue else {
            throw DaytonaError.malformed(operation: "running a command", detail: "expected a JSON object")
        }
        let code = object["exitCode"]?.intValue ?? object["code"]?.intValue ?? 0
        return DaytonaExecuteResult(exitCode: code, result: object["result"]?.stringValue ?? "")
    }

    /// Creates a session; an existing session of that id counts as created (so a retry is harmless).
    public func createSession(toolbox: String, id: String) async throws {
        _ = try await call(.POST, "\(toolbox)/process/session", body: Self.json(["sessionId": .string(id)]), retry: .idempotent,
                           operation: "creating session \(id)", accept: { (200...299).contains($0) || $0 == 409 })
    }

    /// Starts `command` in a session without waiting (`runAsync`), input not echoed into the log; returns its id.
    public func startCommand(toolbox: String, session: String, command: String) async throws -> String {
        let body: [String: JSONValue] = ["command": .string(command), "runAsync": .bool(true), "async": .bool(true), "suppressInputEcho": .bool(true)]
        let response = try await call(.POST, "\(toolbox)/process/session/\(Self.pathComponent(session))/exec", body: Self.json(body),
                                      retry: .rateLimitOnly, operation: "starting a command in session \(session)")
        struct Started: Decodable { var cmdId: String?; var id: String? }
        let started = try decode(Started.self, response, operation: "starting a command")
        guard let id = started.cmdId ?? started.id else {
            throw DaytonaError.malformed(operation: "starting a command", detail: "the answer has no cmdId")
        }
        return id
    }

    /// Writes to a running command's stdin. Not retried except on 429: a repeated frame would be read twice.
    public func sendInput(toolbox: String, session: String, command: String, data: String) async throws {
        _ = try await call(.POST, "\(toolbox)/process/session/\(Self.pathComponent(session))/command/\(Self.pathComponent(command))/input",
                           body: Self.json(["data": .string(data)]), retry: .rateLimitOnly, operation: "sending input to a command")
    }

    /// The whole log so far (the polling fallback reads the part past what it already has).
    public func commandLogs(toolbox: String, session: String, command: String) async throws -> DaytonaCommandLogs {
        let response = try await call(.GET, "\(toolbox)/process/session/\(Self.pathComponent(session))/command/\(Self.pathComponent(command))/logs",
                                      retry: .idempotent, operation: "reading a command's log")
        return try decode(DaytonaCommandLogs.self, response, operation: "reading a command's log")
    }

    public func command(toolbox: String, session: String, command: String) async throws -> DaytonaCommandInfo {
        let response = try await call(.GET, "\(toolbox)/process/session/\(Self.pathComponent(session))/command/\(Self.pathComponent(command))",
                                      retry: .idempotent, operation: "reading a command's state")
        return try decode(DaytonaCommandInfo.self, response, operation: "reading a command's state")
    }

    /// Deletes a session and kills its commands; a session already gone counts as deleted.
    public func deleteSession(toolbox: String, id: String) async throws {
        _ = try await call(.DELETE, "\(toolbox)/process/session/\(Self.pathComponent(id))", retry: .idempotent,
                           operation: "deleting session \(id)", accept: { (200...299).contains($0) || $0 == 404 })
    }

    /// The sandbox's working directory (relative paths of the files API resolve against it).
    public func workDir(toolbox: String) async throws -> String {
        struct Dir: Decodable { var dir: String }
        let response = try await call(.GET, "\(toolbox)/work-dir", retry: .idempotent, operation: "reading the work dir")
        return try decode(Dir.self, response, operation: "reading the work dir").dir
    }

    // MARK: - Files

    /// Writes `data` to `path` in one request (multipart field `file` of `files/upload-v2`).
    public func uploadFile(toolbox: String, path: String, data: Data) async throws {
        let boundary = "rlm-mcp-\(RandomID.base36())"
        var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\((path as NSString).lastPathComponent)\"\r\n".utf8)
        body.append(Data("Content-Type: application/octet-stream\r\n\r\n".utf8))
        body.append(data)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        _ = try await call(.POST, "\(toolbox)/files/upload-v2" + Self.query([("path", path)]), body: .multipart(boundary: boundary, body),
                           retry: .idempotent, operation: "uploading \(path)", timeout: .seconds(600))
    }

    /// The bytes of a file; throws `DaytonaError.malformed` when it is larger than `maxBytes`.
    public func downloadFile(toolbox: String, path: String, maxBytes: Int) async throws -> Data {
        try await call(.GET, "\(toolbox)/files/download" + Self.query([("path", path)]), retry: .idempotent,
                       operation: "downloading \(path)", timeout: .seconds(600), maxBytes: maxBytes).data
    }

    public func listFiles(toolbox: String, path: String) async throws -> [DaytonaFileInfo] {
        let response = try await call(.GET, "\(toolbox)/files" + Self.query([("path", path)]), retry: .idempotent, operation: "listing \(path)")
        return try decode([DaytonaFileInfo].self, response, operation: "listing \(path)")
    }

    public func createFolder(toolbox: String, path: String, mode: String = "755") async throws {
        _ = try await call(.POST, "\(toolbox)/files/folder" + Self.query([("path", path), ("mode", mode)]), retry: .idempotent,
                           operation: "creating folder \(path)")
    }

    public func deleteFile(toolbox: String, path: String, recursive: Bool) async throws {
        _ = try await call(.DELETE, "\(toolbox)/files" + Self.query([("path", path), ("recursive", recursive ? "true" : "false")]),
                           retry: .idempotent, operation: "deleting \(path)")
    }
}
