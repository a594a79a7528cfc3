import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RLMCommon
import Telemetry

/// POSTs JSON to one provider with retries, timeouts and redaction; knows nothing about what the payload means.
struct ProviderHTTP: Sendable {
    struct Answer {
        let status: Int
        let body: Data
        let attempts: Int
    }

    /// A successful answer decoded, with the attempts it took.
    struct Decoded<Reply> {
        let reply: Reply
        let attempts: Int
    }

    /// Resolved at the first request: creating a client starts NIO's event-loop threads, which a server that never
    /// calls a model (or has not yet) should not pay for at start-up.
    let client: @Sendable () -> HTTPClient
    let baseURL: String
    /// Authentication and version headers; never logged.
    let headers: [(String, String)]
    let retry: RetryPolicy
    let timeout: Duration
    let logger: Logger
    /// Strings that must never appear in an error or a log line (the API key).
    let secrets: [String]
    /// `openai` or `anthropic`: the `provider` label of the retry metric.
    var provider = "openai"

    /// Returns the first answer that is a success or a non-retryable failure; retries the rest.
    func post(_ path: String, json body: Data) async throws(LLMError) -> Answer {
        let outcome = try await retry.run({ (attempt: Int) async throws(LLMError) -> RetryPolicy.Attempt<Answer> in
            var request = HTTPClientRequest(url: baseURL + path)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "accept", value: "application/json")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await client().execute(request, timeout: .nanoseconds(timeout.nanoseconds))
                let collected = try await response.body.collect(upTo: 64 * 1024 * 1024)
                let status = Int(response.status.code)
                if !RetryPolicy.isRetryable(status: status) {
                    logger.debug("model call answered", metadata: ["endpoint": "\(baseURL)\(path)", "status": "\(status)", "attempt": "\(attempt)"])
                    return .finished(Answer(status: status, body: Data(collected.readableBytesView), attempts: attempt))
                }
                let retryAfter = response.headers.first(name: "retry-after")
                return .failed(problem: "HTTP \(status)" + (retryAfter.map { " (Retry-After: \($0))" } ?? ""), retryAfter: retryAfter, retryable: true)
            } catch is CancellationError {
                throw .cancelled
            } catch {
                if Task.isCancelled { throw .cancelled }
                return .failed(problem: redact("\(error)"), retryable: true)
            }
        }, willRetry: { attempt, wait, problem in
            // The metric's reason label: `http_<status>` for a retryable answer, `transport` for a failed exchange.
            let reason = problem.hasPrefix("HTTP ") ? "http_" + problem.dropFirst(5).prefix { $0.isNumber } : "transport"
            RLMMetrics.global.llmRetry(provider: provider, reason: reason)
            logger.notice("model call will be retried", metadata: [
                "endpoint": "\(baseURL)\(path)", "problem": "\(problem)", "attempt": "\(attempt)", "wait_ms": "\(Int(wait.milliseconds))",
            ])
        }, cancelled: { .cancelled })
        switch outcome {
        case let .success(answer): return answer
        case let .failure(gaveUp): throw .gaveUp(baseURL: baseURL, attempts: gaveUp.attempts, lastProblem: gaveUp.lastProblem)
        }
    }

    /// Sends `body` as JSON and decodes a successful answer as `Reply`; failures become the error that says what to change.
    func exchange<Body: Encodable, Reply: Decodable>(
        _ path: String, _ body: Body, as _: Reply.Type, keyVariable: String, model: String, modelSource: String
    ) async throws(LLMError) -> Decoded<Reply> {
        let json: Data
        do {
            json = try JSONEncoder().encode(body)
        } catch {
            throw .malformedResponse(baseURL: baseURL, detail: "could not encode the request: \(error)")
        }
        let answer = try await post(path, json: json)
        guard (200...299).contains(answer.status) else {
            throw failure(answer, keyVariable: keyVariable, model: model, modelSource: modelSource)
        }
        guard let reply = try? JSONDecoder().decode(Reply.self, from: answer.body) else {
            throw .malformedResponse(baseURL: baseURL, detail: redact(String(decoding: answer.body.prefix(200), as: UTF8.self)))
        }
        return Decoded(reply: reply, attempts: answer.attempts)
    }

    /// The provider's own error message, with any secret removed: `error.message` (OpenAI's and Anthropic's shape),
    /// else a top-level `message`, else the body's first 2,000 bytes as text.
    func providerMessage(_ body: Data) -> String {
        let object = JSONValue.parse(body)?.objectValue
        let message = object?["error"]?.objectValue?["message"]?.stringValue ?? object?["message"]?.stringValue
        return redact(message ?? String(decoding: body.prefix(2000), as: UTF8.self))
    }

    func redact(_ text: String) -> String {
        secrets.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[redacted]") }
    }

    /// Maps a non-success answer to the error that tells the user what to change.
    func failure(_ answer: Answer, keyVariable: String, model: String, modelSource: String) -> LLMError {
        switch answer.status {
        case 401, 403: .rejectedCredentials(variable: keyVariable, baseURL: baseURL, status: answer.status)
        case 404: .modelNotFound(model: model, source: modelSource, baseURL: baseURL, status: answer.status)
        default: .requestRejected(baseURL: baseURL, status: answer.status, message: providerMessage(answer.body))
        }
    }
}
