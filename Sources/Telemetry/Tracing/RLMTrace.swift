import Tracing

/// Every span the server starts, by name and attributes in one place (like `RLMMetrics` for metrics). Each is a
/// no-op until `InstrumentationSystem` is bootstrapped with a tracer (only when an OTLP endpoint is configured).
public enum RLMTrace {
    // MARK: - MCP

    /// One MCP request, continuing the caller's trace when its `_meta` carried a `traceparent`.
    public static func mcpRequest<T>(_ request: MCPRequestTrace, isolation: isolated (any Actor)? = #isolation,
                                     _ body: (TraceSpan) async throws -> T) async rethrows -> T {
        let parent = TraceHeaders.context(traceparent: request.traceparent, tracestate: request.tracestate)
        return try await withSpan(request.spanName, context: parent, ofKind: .server) { span in
            span.attributes["mcp.method.name"] = request.method
            if let sessionID = request.sessionID { span.attributes["mcp.session.id"] = sessionID }
            if let requestID = request.requestID { span.attributes["jsonrpc.request.id"] = requestID }
            if let version = request.protocolVersion { span.attributes["mcp.protocol.version"] = version }
            if request.method == "tools/call", let tool = request.target {
                span.attributes["gen_ai.tool.name"] = tool
                span.attributes["gen_ai.operation.name"] = "execute_tool"
            }
            return try await body(TraceSpan(span))
        }
    }

    // MARK: - RLM runs

    /// One run (the root run, or a child run of `rlm_query` under the code block that asked for it).
    public static func run<T>(id: String, depth: Int, tool: String, parentRunID: String?, isolation: isolated (any Actor)? = #isolation,
                              _ body: (TraceSpan) async throws -> T) async rethrows -> T {
        try await withSpan("rlm.run \(tool)", ofKind: .internal) { span in
            span.attributes["rlm.run.id"] = id
            span.attributes["rlm.run.depth"] = depth
            span.attributes["rlm.tool"] = tool
            if let parentRunID { span.attributes["rlm.run.parent_id"] = parentRunID }
            return try await body(TraceSpan(span))
        }
    }

    /// One root-model iteration: its model call and the code blocks of the reply. The caller ends it.
    public static func startIteration(_ iteration: Int, of total: Int) -> TraceSpan {
        let span = startSpan("rlm.iteration", ofKind: .internal)
        span.attributes["rlm.iteration"] = iteration
        span.attributes["rlm.iteration.max"] = total
        return TraceSpan(span)
    }

    /// One code block run in the sandbox; its sub-calls are its children (see `carryingContext`).
    public static func codeBlock<T>(index: Int, code: String, isolation: isolated (any Actor)? = #isolation,
                                    _ body: () async throws -> T) async rethrows -> T {
        try await withSpan("rlm.code_block", ofKind: .internal) { span in
            span.attributes["rlm.code_block.index"] = index
            span.attributes["rlm.code_block.chars"] = code.count
            if TraceContent.isRecorded { span.attributes["rlm.code_block.code"] = code }
            return try await body()
        }
    }

    /// Wraps a callback that another task calls (the sandbox's sub-call handler) so that what it starts belongs to
    /// the span current where the callback was made, not to whichever task happens to call it.
    public static func carryingContext<Input, Output>(_ callback: @escaping @Sendable (Input) async -> Output) -> @Sendable (Input) async -> Output {
        guard let context = ServiceContext.current else { return callback }
        return { input in await ServiceContext.withValue(context) { await callback(input) } }
    }

    // MARK: - Language models

    /// One model request (GenAI conventions: `chat {gen_ai.request.model}`); the caller ends it after recording the
    /// answer (`chatAnswered`) or the failure.
    public static func startChat(provider: String, model: String, maxTokens: Int, messages: @autoclosure () -> [(role: String, content: String)]) -> TraceSpan {
        let span = startSpan("chat \(model)", ofKind: .client)
        span.attributes["gen_ai.operation.name"] = "chat"
        span.attributes["gen_ai.provider.name"] = provider
        span.attributes["gen_ai.request.model"] = model
        span.attributes["gen_ai.request.max_tokens"] = maxTokens
        if TraceContent.isRecorded { span.attributes["gen_ai.input.messages"] = ChatContent.json(messages()) }
        return TraceSpan(span)
    }
}
