import Tracing

extension TraceSpan {
    /// A run ended: its status and how many root iterations it took.
    public func runEnded(status: String, iterations: Int) {
        span.attributes["rlm.run.status"] = status
        span.attributes["rlm.run.iterations"] = iterations
        if status == "error" { span.setStatus(SpanStatus(code: .error)) }
    }

    /// A model answered: usage, finish reason, attempts and (with `RLM_TRACE_CONTENT=1`) the answer.
    public func chatAnswered(inputTokens: Int, outputTokens: Int, finishReason: String?, attempts: Int, output: String) {
        span.attributes["gen_ai.usage.input_tokens"] = inputTokens
        span.attributes["gen_ai.usage.output_tokens"] = outputTokens
        if let finishReason { span.attributes["gen_ai.response.finish_reasons"] = [finishReason] }
        span.attributes["rlm.llm.attempts"] = attempts
        if TraceContent.isRecorded { span.attributes["gen_ai.output.messages"] = ChatContent.json([(role: "assistant", content: output)]) }
    }

    /// A tool call answered with `isError`: the span is failed although no error was thrown.
    public func toolFailed() {
        failed(kind: "tool_error", message: "the tool returned an error result")
    }
}
