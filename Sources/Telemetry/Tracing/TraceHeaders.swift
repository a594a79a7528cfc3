import Tracing

/// W3C trace context from the `traceparent` a client puts in a request's `_meta`. (Outgoing requests need nothing
/// here: AsyncHTTPClient starts a client span per request under the current one and sends its `traceparent`.)
public enum TraceHeaders {
    /// The context a caller's `traceparent` (and `tracestate`) describe; the current one when there is none, or
    /// when it is malformed (the propagator ignores what it cannot parse).
    public static func context(traceparent: String?, tracestate: String? = nil) -> ServiceContext {
        let base = ServiceContext.current ?? .topLevel
        guard let traceparent else { return base }
        var carrier = ["traceparent": traceparent]
        if let tracestate { carrier["tracestate"] = tracestate }
        var context = base
        InstrumentationSystem.instrument.extract(carrier, into: &context, using: DictionaryExtractor())
        return context
    }
}

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
