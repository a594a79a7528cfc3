import Foundation
import History
import HTTPTypes
import Hummingbird

/// Server-sent events for a run in flight: a `step` event per new iteration (its timeline entry, rendered and escaped
/// by the same template as the page) and a `status` event with the totals; the stream ends when the run does.
struct LiveRunEvents: Sendable {
    let viewer: RunViewer
    /// How often the history is read while a run is live (steps arrive seconds apart).
    static let pollInterval: Duration = .milliseconds(500)
    /// A stream ends after this long even if the run never does (the page reconnects).
    static let maxPolls = 7_200

    struct StepUpdate: Encodable {
        var html: String
        var steps: Int
    }

    struct StatusUpdate: Encodable {
        var status: String
        var tokens: Int
        var cost: String
        var duration: String
        var llmCalls: Int
    }

    func response(runID: String, after: Int) async throws -> Response {
        let store = try await viewer.store.get()
        let start = max(0, after)
        let first = try await store.progress(runID, afterStep: start) // a 404 now rather than an empty stream
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let poller = Task {
            var sent = start
            var lastStatus: StatusUpdate?
            var progress = first
            for poll in 0..<Self.maxPolls where !Task.isCancelled {
                // Each poll reads the run's summary and only the steps not sent yet, however long the run grows.
                if poll > 0 {
                    guard let newer = try? await store.progress(runID, afterStep: sent) else { break }
                    progress = newer
                }
                for step in progress.steps {
                    let html = viewer.templates.render(ViewerFormat.step(step, prices: viewer.prices), as: "step")
                    sent += 1
                    continuation.yield(Self.event("step", StepUpdate(html: html, steps: sent)))
                }
                let summary = progress.summary
                let status = StatusUpdate(status: summary.status, tokens: summary.totalTokens, cost: ViewerFormat.cost(summary.costUSD),
                                          duration: ViewerFormat.millis(summary.durationMS), llmCalls: summary.llmCalls)
                if status.status != lastStatus?.status || status.tokens != lastStatus?.tokens {
                    continuation.yield(Self.event("status", status))
                    lastStatus = status
                }
                if summary.status != "running" { break }
                try? await Task.sleep(for: Self.pollInterval)
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in poller.cancel() }
        return Response(status: .ok, headers: ViewerResponse.secured([.contentType: "text/event-stream", .cacheControl: "no-cache, no-transform"]),
                        body: ResponseBody(asyncSequence: stream))
    }

    static func event(_ name: String, _ value: some Encodable) -> ByteBuffer {
        let data = (try? JSONEncoder().encode(value)) ?? Data("{}".utf8)
        return ByteBuffer(string: "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
    }
}
