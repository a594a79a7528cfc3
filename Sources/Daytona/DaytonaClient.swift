import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import RLMCommon

/// The Daytona REST API as rlm-mcp uses it: sandbox lifecycle on the main API, and each sandbox's toolbox
/// (`{toolboxProxyUrl}/{sandboxId}/…`) for processes, sessions and files. Every request carries the bearer key;
/// idempotent calls are retried with backoff on 408/429/5xx and transport errors, the others only on 429.
public struct DaytonaClient: Sendable {
    public let settings: DaytonaSettings
    let http: HTTPClient
    let logger: Logger

    public init(settings: DaytonaSettings, http: HTTPClient = .shared, logger: Logger = Logger(label: "rlm-mcp.daytona")) {
        self.settings = settings
        self.http = http
        self.logger = logger
    }

    /// Which failures a call may be repeated after.
    enum RetryRule {
        /// Repeating it changes nothing (GET, DELETE, PUT-like): 408, 429, 5xx and transport errors.
        case idempotent
        /// Repeating it could do it twice (exec, stdin input, create): only 429, which says it was not done.
        case rateLimitOnly
    }

    enum Body {
        case none
        case json(Data)
        case multipart(boundary: String, Data)
    }

    struct Response {
        let status: Int
        let body: ByteBuffer
        var data: Data { Data(buffer: body) }
    }

    /// The headers every request carries (the key among them); never logged.
    var commonHeaders: [(String, String)] {
        [("Authorization", "Bearer \(settings.apiKey)"), ("X-Daytona-Source", "sdk-swift-rlm-mcp")]
    }

    // MARK: - The one request path

    /// Sends one request, retrying as `retry` allows; answers with any status in `accept`, else throws `DaytonaError`.
    func call(_ method: HTTPMethod, _ url: String, body: Body = .none, retry: RetryRule, operation: String,
              timeout: Duration = .seconds(60), accept: (Int) -> Bool = { (200...299).contains($0) },
              maxBytes: Int = 256 * 1024 * 1024) async throws -> Response {
        var lastStatus: Int?
        var lastBody = ByteBuffer()
        let outcome = try await settings.retry.run({ (attempt: Int) async throws -> RetryPolicy.Attempt<Response> in
            var request = HTTPClientRequest(url: url)
            request.method = method
            for (name, value) in commonHeaders { request.headers.add(name: name, value: value) }
            switch body {
            case .none:
                break
            case let .json(data):
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(data: data))
            case let .multipart(boundary, data):
                request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
                request.body = .bytes(ByteBuffer(data: data))
            }
            do {
                let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout.milliseconds)))
                let status = Int(response.status.code)
                // Error bodies are small JSON; only a success answer is held to the caller's limit.
                let limit = accept(status) ? maxBytes : 1024 * 1024
                let collected: ByteBuffer
                do {
                    collected = try await response.body.collect(upTo: limit)
                } catch is NIOTooManyBytesError {
                    throw DaytonaError.tooLarge(operation: operation, limit: limit)
                }
                if accept(status) { return .finished(Response(status: status, body: collected)) }
                lastStatus = status
                lastBody = collected
                return .failed(problem: "HTTP \(status)", retryAfter: response.headers.first(name: "retry-after"),
                               retryable: retry == .idempotent ? RetryPolicy.isRetryable(status: status) : status == 429)
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as DaytonaError {
                throw error
            } catch {
                try Task.checkCancellation()
                lastStatus = nil
                return .failed(problem: redact("\(error)"), retryable: retry == .idempotent)
            }
        }, willRetry: { attempt, wait, problem in
            logger.notice("Daytona call will be retried", metadata: [
                "operation": "\(operation)", "problem": "\(problem)", "attempt": "\(attempt)", "wait_ms": "\(Int(wait.milliseconds))",
            ])
        }, cancelled: { CancellationError() })
        switch outcome {
        case let .success(response):
            return response
        case let .failure(gaveUp):
            guard let status = lastStatus else { throw DaytonaError.transport(operation: operation, detail: gaveUp.lastProblem) }
            throw failure(status: status, body: Data(buffer: lastBody), operation: operation)
        }
    }

    func failure(status: Int, body: Data, operation: String) -> DaytonaError {
        var message = String(decoding: body.prefix(1000), as: UTF8.self)
        var code: String?
        if let object = JSONValue.parse(body)?.objectValue {
            if case let .string(text)? = object["message"] {
                message = text
            } else if case let .array(items)? = object["message"], case let texts = items.compactMap(\.stringValue), texts.count == items.count {
                message = texts.joined(separator: "; ")
            } else if case let .string(text)? = object["error"] {
                message = text
            }
            code = object["code"]?.stringValue
        }
        message = redact(message)
        if status == 401 || status == 403 { return .rejectedKey(status: status, operation: operation, message: message) }
        return .http(status: status, operation: operation, message: message, code: code)
    }

    /// Removes the key from text that may reach a log or an error.
    func redact(_ text: String) -> String {
        settings.apiKey.isEmpty ? text : text.replacingOccurrences(of: settings.apiKey, with: "[redacted]")
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: Response, operation: String) throws(DaytonaError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: response.data)
        } catch {
            throw .malformed(operation: operation, detail: redact("\(error)"))
        }
    }

    static func json(_ object: [String: JSONValue]) -> Body {
        .json((try? JSONEncoder().encode(object)) ?? Data("{}".utf8))
    }

    static func query(_ items: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return items.isEmpty ? "" : "?" + items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
    }

    static func pathComponent(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
