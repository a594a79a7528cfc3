/// Why a worker stopped serving its namespace while it ran code. Every case loses the namespace's variables; the next
/// call in that namespace starts a fresh worker.
public enum WorkerFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The code ran longer than its timeout, so the host stopped the worker.
    case timedOut(limit: Duration)
    /// The worker exited while running the code (a crash, a CPU or process limit, code that killed it).
    case died(reason: String)
    /// The worker was killed by a signal the host did not send, which the sandbox's memory limit does.
    case outOfMemory(reason: String)
    /// The worker was gone before it received any code: nothing ran, so the code may safely go to another worker.
    case goneBeforeFirstFrame(reason: String)

    /// What the frame stream's end says about a worker that was running code.
    init(_ exit: WorkerExit) {
        switch exit.cause {
        case .killedBySignal: self = .outOfMemory(reason: exit.description)
        case .neverReceivedAFrame: self = .goneBeforeFirstFrame(reason: exit.description)
        case .exited, .stoppedByHost: self = .died(reason: exit.description)
        }
    }

    public var description: String {
        let lost = "This namespace's variables were lost; the next call starts a fresh one"
        return switch self {
        case let .timedOut(limit):
            "the code ran longer than \(limit.components.seconds) s and was stopped; this namespace's variables were lost"
        case let .died(reason):
            "the Python worker died while running the code (\(reason)); a memory, CPU or process limit may have been hit. \(lost)"
        case let .outOfMemory(reason):
            "the Python worker died while running the code (\(reason)): it was killed, most likely for passing the sandbox's "
                + "memory limit (RLM_SANDBOX_TOTAL_MEMORY_MB locally). \(lost)"
        case let .goneBeforeFirstFrame(reason):
            "the Python worker was gone before it received the code (\(reason)); the code did not run"
        }
    }
}

/// How a worker's frame stream ended: the last frame every transport yields.
public struct WorkerExit: Sendable, Equatable {
    public enum Cause: Sendable, Equatable {
        /// The process ended by itself (an exit status, or a signal other than SIGKILL).
        case exited
        /// SIGKILL that the host did not send: the kernel's out-of-memory killer, or code that killed its own worker.
        case killedBySignal
        /// The host stopped it (a timeout, a reset, a frame past the size cap, replies it would not read).
        case stoppedByHost
        /// It was gone before a single host frame reached it (seen on Daytona, where delivering a frame can fail).
        case neverReceivedAFrame
    }

    public var cause: Cause
    /// Said to the user: "exit code 1", "signal 9 (SIGKILL)", the host's reason.
    public var description: String

    public init(_ cause: Cause, _ description: String) {
        self.cause = cause
        self.description = description
    }
}
