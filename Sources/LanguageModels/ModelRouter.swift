import AsyncHTTPClient
import Logging
import RLMCommon
import RLMConfig
import Telemetry

/// Routes `provider/model` ids to the client of their provider in `ModelProviders` (bare names to the
/// OpenAI-compatible endpoint). Measures latency and reports usage for every call.
public struct ModelRouter: LanguageModel {
    private let config: RLMConfig
    /// The clients of the providers the configuration can build, by provider name.
    private let clients: [String: any ProviderClient]
    private let pricing: ModelPricing

    /// `pricing` prices a `provider/model` id for the cost metric; unknown models cost nothing there.
    public init(config: RLMConfig, client: @escaping @autoclosure @Sendable () -> HTTPClient = .models, retry: RetryPolicy = .init(),
                timeout: Duration = .seconds(300), logger: Logger, pricing: @escaping ModelPricing = { _ in nil }) {
        self.config = config
        self.pricing = pricing
        let transport = ModelProvider.Transport(client: client, retry: retry, timeout: timeout, logger: logger)
        var clients: [String: any ProviderClient] = [:]
        for provider in ModelProviders.all {
            clients[provider.name] = provider.makeClient(config, transport)
        }
        self.clients = clients
    }

    public func complete(_ request: ChatRequest) async throws(LLMError) -> ChatResponse {
        let started = ContinuousClock.now
        let route = ModelProviders.route(request.model)
        let (provider, model) = (route.provider, route.model)
        let span = RLMTrace.startChat(provider: provider.name, model: model, maxTokens: request.maxTokens,
                                      messages: request.messages.map { (role: $0.role.rawValue, content: $0.content) })
        defer { span.end() }
        do {
            // Within the span: the provider request's `traceparent` names it as the parent.
            let response = try await span.within { () async throws(LLMError) -> ChatResponse in
                try await complete(request, provider: provider, model: model, started: started)
            }
            span.chatAnswered(inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens,
                              finishReason: response.finishReason, attempts: response.attempts, output: response.text)
            let cost = pricing(request.model).map { $0.cost(response.usage) }
            RLMMetrics.global.llmRequest(provider: provider.name, model: request.model, outcome: "ok", duration: response.latency,
                                         inputTokens: response.usage.inputTokens, outputTokens: response.usage.outputTokens, costUSD: cost)
            return response
        } catch {
            span.failed(kind: error.kind, message: error.description)
            RLMMetrics.global.llmRequest(provider: provider.name, model: request.model, outcome: error.kind, duration: .now - started,
                                         inputTokens: 0, outputTokens: 0, costUSD: nil)
            throw error
        }
    }

    private func complete(_ request: ChatRequest, provider: ModelProvider, model: String,
                          started: ContinuousClock.Instant) async throws(LLMError) -> ChatResponse {
        let hint = provider.setupHint(config, request.model, request.modelSource)
        guard hint == nil, let client = clients[provider.name] else {
            throw .notConfigured(hint ?? "\(request.modelSource) is \(request.model): the \(provider.name) provider is not configured")
        }
        let reply = try await client.complete(request, model: model)
        return ChatResponse(text: reply.text, model: request.model, usage: reply.usage, latency: ContinuousClock.now - started,
                            attempts: reply.attempts, finishReason: reply.finishReason)
    }
}

extension HTTPClient {
    /// The client model calls share. `HTTPClient.shared` opens at most 8 connections per host, which would cap a
    /// batch of sub-calls to one provider at 8 in flight whatever `RLM_SUB_CONCURRENCY` says; this one allows 256 and
    /// lets `ConcurrencyLimit` decide. Like `.shared` it lives as long as the process and is never shut down.
    public static let models: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        // The pool keeps retrying a refused connection until this deadline; the default 10 s per attempt made a wrong
        // OPENAI_BASE_URL take 40 s to report.
        configuration.timeout.connect = .seconds(3)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// A model whose calls wait for a permit from a limit shared by every run of the server, so a burst of batched
/// sub-calls never exceeds `RLM_SUB_CONCURRENCY` requests in flight.
public struct BoundedLanguageModel: LanguageModel {
    let base: any LanguageModel
    let limit: ConcurrencyLimit

    public init(_ base: any LanguageModel, limit: ConcurrencyLimit) {
        self.base = base
        self.limit = limit
    }

    public func complete(_ request: ChatRequest) async throws(LLMError) -> ChatResponse {
        do {
            try await limit.acquire()
        } catch {
            throw .cancelled
        }
        defer { Task { await limit.release() } }
        return try await base.complete(request)
    }
}

/// A counting semaphore for async code: FIFO, and a cancelled waiter gives up its place.
public actor ConcurrencyLimit {
    public let permits: Int
    private var available: Int
    private var waiters: [(id: Int, continuation: CheckedContinuation<Void, Error>)] = []
    private var nextWaiter = 0
    /// Most permits ever held at once (observable in tests and status).
    public private(set) var peak = 0

    public init(permits: Int) {
        self.permits = max(1, permits)
        self.available = max(1, permits)
    }

    public func acquire() async throws {
        if available > 0, waiters.isEmpty {
            take()
            return
        }
        let id = nextWaiter
        nextWaiter += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                // Cancelled before queueing: the cancellation handler found nothing to remove, so refuse here.
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    public func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            // The permit passes straight to the next waiter.
            waiters.removeFirst().continuation.resume()
        }
    }

    private func take() {
        available -= 1
        peak = max(peak, permits - available)
    }

    private func cancelWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }
}
