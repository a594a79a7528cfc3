import Tracing

/// A started span that its owner ends, for code whose shape does not fit one `withSpan` closure (a loop iteration,
/// a call with typed throws). A no-op span when tracing is off.
public struct TraceSpan: Sendable {
    let span: any Span

    init(_ span: any Span) { self.span = span }

    /// Ends the span; call once.
    public func end() { span.end() }

    /// Runs `body` with this span as the current one, so that spans started in it, and the `traceparent` of requests
    /// it sends, are this span's children.
    public func within<T, E: Error>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws(E) -> T) async throws(E) -> T {
        // Through a Result: the task-local binding rethrows untyped, and callers (the model router) throw typed errors.
        let outcome: Result<T, E> = await ServiceContext.withValue(span.context) {
            do throws(E) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Marks the span failed with a short, secret-free `kind` (`error.type`) and message.
    public func failed(kind: String, message: String) {
        span.attributes["error.type"] = kind
        span.setStatus(SpanStatus(code: .error, message: message))
    }
}
