import RLMEngine
import Synchronization

/// A run recorder that can be handed to the server before the history store is open: `serve` opens the store (SQLite
/// open, migrations, pruning: several milliseconds) while it already answers, and the runs that start meanwhile are
/// kept here, in order, until the store is ready.
final class DeferredRunRecorder: RunRecorder {
    private enum State {
        case opening(queued: [RunEvent])
        case open(any RunRecorder)
    }

    private let state = Mutex(State.opening(queued: []))

    func record(_ event: RunEvent) {
        state.withLock { state in
            switch state {
            case .opening(var queued):
                queued.append(event)
                state = .opening(queued: queued)
            case .open(let recorder):
                recorder.record(event)
            }
        }
    }

    /// The store is open: what was queued goes to `recorder` first, then every later event.
    func opened(_ recorder: any RunRecorder) {
        state.withLock { state in
            if case .opening(let queued) = state { queued.forEach(recorder.record) }
            state = .open(recorder)
        }
    }
}
