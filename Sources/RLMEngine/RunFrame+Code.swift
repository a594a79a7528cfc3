import Foundation
import LanguageModels
import RLMCommon
import Sandboxes
import Telemetry

/// Running a reply's code in the run's namespace.
extension RunFrame {
    /// What a reply's code blocks did.
    struct BlockRuns {
        var runs: [CodeRun] = []
        /// The fields given to `SUBMIT`, when a block called it.
        var submitted: [String: JSONValue]?
        /// Blocks not run after a submission or an error.
        var skipped = 0
        /// A block lost the namespace's worker (a timeout, a crash): the next block starts in a fresh one.
        var workerLost = false
    }

    /// Runs a reply's code blocks in order in the run's namespace, stopping at a submission or at the first error
    /// (later blocks usually depend on the failed one).
    func runBlocks(_ blocks: [String]) async throws -> BlockRuns {
        let sandbox = try await sandbox.get()
        _ = try await contextLoad?.value
        if namespaceLost { try await reload(into: sandbox) }
        let log = SubCallLog()
        let broker = SubCallBroker(engine: engine, frame: self, log: log)
        var ran = BlockRuns()
        for (index, code) in blocks.enumerated() {
            let timeout = min(request.limits.execTimeout, await ledger.remainingTime)
            let result: ExecResult
            do {
                result = try await RLMTrace.codeBlock(index: index, code: code) { try await sandbox.execute(ExecRequest(
                    code: code, namespace: .named(namespace), variables: pendingVariables(), timeout: timeout,
                    maxOutputChars: request.limits.maxOutputChars, onSubCall: RLMTrace.carryingContext { await broker.handle($0) }
                )) }
            } catch let SandboxError.workerLost(failure) {
                // Code that crashes its worker is the model's to fix, like an exception: it reads why and goes on.
                result = .lost(failure, durationMS: 0)
            }
            if result.workerFailure != nil {
                namespaceLost = true
                ran.workerLost = true
            }
            ran.runs.append(CodeRun(
                code: code, stdout: result.stdout, stderr: result.stderr, error: result.error.map(Observation.describe),
                submitted: result.submitted != nil, truncated: result.truncated, durationMS: result.durationMS, subCalls: await log.drain()
            ))
            if result.submitted != nil || result.error != nil {
                ran.submitted = result.submitted
                ran.skipped = blocks.count - index - 1
                return ran
            }
        }
        return ran
    }

    /// Gives a fresh worker what the lost one had at the start: `context` and the run's variables.
    func reload(into sandbox: any Sandbox) async throws {
        namespaceLost = false
        variablesSent = false
        if let file = contextFile {
            _ = try await sandbox.loadVariable("context", fromFile: file.path, kind: file.kind, namespace: namespace, timeout: request.limits.execTimeout)
        }
    }

    /// The run's extra variables, sent with the first execution only.
    func pendingVariables() -> [String: JSONValue]? {
        guard !variablesSent else { return nil }
        variablesSent = true
        var variables = request.variables
        if request.context == .none { variables["context"] = JSONValue.null }
        return variables.isEmpty ? nil : variables
    }
}
