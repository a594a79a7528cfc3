import NIOCore
import Synchronization

/// The SSE events of one 2026-07-28 tool call, gathered while the call runs on the HTTP handler's thread. A call that is
/// done when the handler hands over its response body goes out as one buffer (no stream to iterate, no hand-off to
/// another task per event); a longer one switches to an `AsyncStream` that the response body reads as events come.
final class CallEvents: Sendable {
    /// What the handler answers with.
    enum Body {
        case complete(ByteBuffer)
        case stream(AsyncStream<ByteBuffer>)
    }

    private enum State {
        case gathering(ByteBuffer, finished: Bool)
        case streaming(AsyncStream<ByteBuffer>.Continuation)
    }

    private let state = Mutex(State.gathering(ByteBuffer(), finished: false))

    func emit(_ event: ByteBuffer) {
        let live = state.withLock { state -> AsyncStream<ByteBuffer>.Continuation? in
            switch state {
            case .gathering(var gathered, let finished):
                gathered.writeImmutableBuffer(event)
                state = .gathering(gathered, finished: finished)
                return nil
            case .streaming(let continuation):
                return continuation
            }
        }
        live?.yield(event)
    }

    /// The call is over: nothing more will be emitted.
    func finish() {
        let live = state.withLock { state -> AsyncStream<ByteBuffer>.Continuation? in
            switch state {
            case .gathering(let gathered, _):
                state = .gathering(gathered, finished: true)
                return nil
            case .streaming(let continuation):
                return continuation
            }
        }
        live?.finish()
    }

    /// The response body, taken once. `prepare` sees the stream's continuation before any event can reach it (set its
    /// `onTermination` there: a call finishing right after this cannot slip past it).
    func body(prepare: (AsyncStream<ByteBuffer>.Continuation) -> Void) -> Body {
        state.withLock { state in
            guard case .gathering(let gathered, let finished) = state else {
                preconditionFailure("CallEvents.body taken twice")
            }
            if finished { return .complete(gathered) }
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
            prepare(continuation)
            if gathered.readableBytes > 0 { continuation.yield(gathered) }
            state = .streaming(continuation)
            return .stream(stream)
        }
    }
}
