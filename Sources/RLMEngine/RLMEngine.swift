import Foundation
import LanguageModels
import RLMCommon
import Sandboxes
import Telemetry

/// Runs Recursive Language Model loops (DESIGN §3): the root model writes code, the sandbox runs it over `context`,
/// sub-calls go to the sub model, until the code submits an answer or a budget ends the run.
public struct RLMEngine: Sendable {
    /// Where a run gets its sandbox; called once per run, concurrently with the first model call.
    public typealias SandboxSource = @Sendable () async throws -> any Sandbox
    /// Called per iteration with (iteration, max iterations, what is happening).
    public typealias Progress = @Sendable (_ step: Int, _ total: Int, _ message: String) async -> Void

    public let rootModel: any LanguageModel
    /// The model sub-calls use; wrap it in `BoundedLanguageModel` to share one concurrency bound across runs.
    public let subModel: any LanguageModel
    public let windows: ModelWindows
    private let customPrompts: SystemPrompts?
    /// Hears every run, step and end as they happen (the run history); told, never waited for.
    public let recorder: any RunRecorder
    /// Turns usage into `cost_usd` and enforces `max_cost_usd`.
    public let prices: PriceTable

    /// `prompts` nil: the bundled prompts, read on the first run rather than at server start-up.
    public init(rootModel: any LanguageModel, subModel: any LanguageModel, windows: ModelWindows = .init(), prompts: SystemPrompts? = nil,
                recorder: any RunRecorder = NoRunRecorder(), prices: PriceTable = .defaults) {
        self.rootModel = rootModel
        self.subModel = subModel
        self.windows = windows
        self.customPrompts = prompts
        self.recorder = recorder
        self.prices = prices
    }

    public var prompts: SystemPrompts { customPrompts ?? .bundled }

    /// Runs `request` to its end. Model and sandbox failures end the run with `status: error` rather than throwing;
    /// throws `RunInputError` when the request itself cannot be run (its context file does not exist), and
    /// `CancellationError` when the calling task is cancelled, after stopping the code and freeing its namespace.
    public func run(_ request: RunRequest, sandbox: @escaping SandboxSource, check: SubmissionCheck? = nil,
                    progress: Progress? = nil) async throws -> RunResult {
        let ledger = RunLedger(limits: request.limits, startedAt: .now, prices: prices)
        let source = SandboxHandle(source: sandbox)
        return try await runLoop(request, depth: 0, ledger: ledger, sandbox: source, check: check, progress: progress)
    }

    /// One run at `depth` (0 for the root run; child runs from `rlm_query` share the root's ledger and sandbox).
    func runLoop(_ request: RunRequest, depth: Int, ledger: RunLedger, sandbox: SandboxHandle, check: SubmissionCheck? = nil,
                 progress: Progress?) async throws -> RunResult {
        let frame = RunFrame(engine: self, request: request, depth: depth, ledger: ledger, sandbox: sandbox, check: check, progress: progress)
        return try await RLMTrace.run(id: frame.runID, depth: depth, tool: request.origin.tool, parentRunID: request.origin.parentRunID) { span in
            let result: RunResult
            do {
                result = try await Self.withDeadline(ledger.deadline) { try await frame.iterate() }
            } catch is DeadlineReached {
                result = await frame.finish(.budgetExceeded, message: "budget exhausted: timeout_s=\(Int(request.limits.timeout.seconds)) reached")
            } catch {
                await frame.release()
                throw error
            }
            await frame.release()
            span.runEnded(status: result.status.rawValue, iterations: result.iterations)
            return result
        }
    }

    struct DeadlineReached: Error {}

    /// Runs `body` until `deadline`; past it, cancels the body (killing its running code) and throws `DeadlineReached`.
    static func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw DeadlineReached() }
            return value
        }
    }
}

/// The request cannot be run as given; `message` says what to change.
public struct RunInputError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Decides whether a submission ends the run; `rlm_code` uses it to run the tests on the host's terms.
public typealias SubmissionCheck = @Sendable (_ fields: [String: JSONValue], _ sandbox: any Sandbox) async throws -> SubmissionVerdict

public enum SubmissionVerdict: Sendable {
    /// The run ends; `fields` are merged into the submitted fields.
    case accept(fields: [String: JSONValue])
    /// The run goes on; `feedback` is what the model reads next.
    case reject(feedback: String)
}

/// The sandbox of a run and its children, acquired once, on first need.
actor SandboxHandle {
    private let source: RLMEngine.SandboxSource
    private var acquiring: Task<any Sandbox, Error>?
    /// The sandbox once acquired, so that cleanup never waits for (or starts) an acquisition.
    private(set) var acquired: (any Sandbox)?

    init(source: @escaping RLMEngine.SandboxSource) { self.source = source }

    /// Starts acquiring the sandbox in the background (e.g. while the first model call is in flight).
    func prefetch() {
        if acquiring == nil { acquiring = Task { [source] in try await source() } }
    }

    func get() async throws -> any Sandbox {
        prefetch()
        let sandbox = try await acquiring!.value
        acquired = sandbox
        return sandbox
    }
}
