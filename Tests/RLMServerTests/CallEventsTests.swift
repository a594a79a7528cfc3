import NIOCore
import Testing
@testable import RLMServer

/// A 2026-07-28 call's events: one complete body when the call is over before the handler answers, else a stream that
/// carries what was gathered and then the rest, and is kept alive by the shared ticker only while it is open.
@Suite struct CallEventsTests {
    private func text(_ stream: AsyncStream<ByteBuffer>) async -> String {
        var out = ""
        for await chunk in stream { out += String(buffer: chunk) }
        return out
    }

    @Test func aCallOverBeforeTheAnswerIsOneCompleteBody() {
        let events = CallEvents()
        events.emit(ByteBuffer(string: "a"))
        events.emit(ByteBuffer(string: "b"))
        events.finish()
        var prepared = false
        guard case .complete(let body) = events.body(prepare: { _ in prepared = true }) else { Issue.record("expected a complete body"); return }
        #expect(String(buffer: body) == "ab" && !prepared)
    }

    @Test func aLongerCallStreamsWhatWasGatheredThenTheRest() async {
        let events = CallEvents()
        events.emit(ByteBuffer(string: "a"))
        // `prepare` runs before the gathered events reach the stream: its mark comes first.
        guard case .stream(let stream) = events.body(prepare: { $0.yield(ByteBuffer(string: "p")) }) else {
            Issue.record("expected a stream"); return
        }
        events.emit(ByteBuffer(string: "b"))
        events.finish()
        #expect(await text(stream) == "pab")
    }

    @Test func theKeepAliveTickerHoldsOnlyOpenStreams() async {
        let ticker = KeepAliveTicker(interval: .milliseconds(1))
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let ticket = ticker.register(continuation)
        var iterator = stream.makeAsyncIterator()
        #expect(await iterator.next().map { String(buffer: $0) } == ":\n\n")
        ticker.unregister(ticket)
        #expect(ticker.registered == 0)
    }
}
