import InMemoryTracing
import Testing
import Tracing
@testable import Telemetry

/// Where spans land in the tree, recorded by the tracing package's in-memory tracer (installed once per process).
@Suite struct RLMTraceTests {
    static let tracer: InMemoryTracer = {
        let tracer = InMemoryTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()

    /// The finished spans of the trace under a fresh root span that `body` ran in (other tests' spans excluded).
    func trace(_ body: () async -> Void) async -> (root: String, spans: [FinishedInMemorySpan]) {
        let tracer = Self.tracer
        let root = await withSpan("test root") { span in
            await body()
            return span.context.inMemorySpanContext!
        }
        return (root.spanID, tracer.finishedSpans.filter { $0.traceID == root.traceID })
    }

    @Test func aSubCallAnsweredOnAnotherTaskIsAChildOfItsCodeBlock() async throws {
        let (_, spans) = await trace {
            let callback = await RLMTrace.codeBlock(index: 0, code: "llm_query('x')") {
                RLMTrace.carryingContext { (_: Int) async in await withSpan("chat sub") { _ in } }
            }
            // The sandbox answers sub-calls from its own reader task, which does not inherit the block's context.
            await Task.detached { await callback(1) }.value
        }
        let block = try #require(spans.first { $0.operationName == "rlm.code_block" })
        let sub = try #require(spans.first { $0.operationName == "chat sub" })
        #expect(sub.spanContext.parentSpanID == block.spanID)
    }

    @Test func spansStartedWithinAnIterationAreItsChildren() async throws {
        let (root, spans) = await trace {
            let iteration = RLMTrace.startIteration(2, of: 5)
            await iteration.within { await withSpan("chat root") { _ in } }
            iteration.end()
        }
        let iteration = try #require(spans.first { $0.operationName == "rlm.iteration" })
        let chat = try #require(spans.first { $0.operationName == "chat root" })
        #expect(iteration.spanContext.parentSpanID == root)
        #expect(chat.spanContext.parentSpanID == iteration.spanID)
        #expect(iteration.attributes["rlm.iteration"]?.toSpanAttribute() == .int64(2))
    }

    @Test func codeIsNotRecordedUnlessContentTracingIsOn() async throws {
        let (_, spans) = await trace {
            await RLMTrace.codeBlock(index: 0, code: "secret = context[:10]") {}
        }
        let block = try #require(spans.first { $0.operationName == "rlm.code_block" })
        #expect(block.attributes["rlm.code_block.code"] == nil)
        #expect(block.attributes["rlm.code_block.chars"]?.toSpanAttribute() == .int64(21))
    }
}
