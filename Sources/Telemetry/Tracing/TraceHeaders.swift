import Tracing

/// W3C trace context in and out of plain header lists: the `traceparent` a client puts in a request's `_meta`,
/// and the headers an outgoing model request carries.
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

    /// The headers that carry the current span to the next service (`traceparent`, maybe `tracestate`); empty when
    /// tracing is off.
    public static func outgoing() -> [(name: String, value: String)] {
        guard let context = ServiceContext.current else { return [] }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryInjector())
        return carrier.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
    }
}

private struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
