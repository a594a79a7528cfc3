import Foundation
import LanguageModels
import RLMCommon
import Sandboxes

/// Keeping the root conversation within the model's window.
extension RunFrame {
    /// The one place the loop compacts: folds older iterations or cuts the latest when the next request would pass the
    /// threshold, and ends the run when even the system prompt and task cannot fit.
    func fitHistory(iteration: Int, label: String, extra: String?) async -> Result<Void, RunEnding> {
        switch compactor.decide(history, extra: extra, estimator: estimator) {
        case .fits:
            return .success(())
        case let .tooSmall(fixedTokens):
            let source = depth == 0 && engine.windows.rootOverride != nil ? "RLM_ROOT_CONTEXT_TOKENS" : "by the model's name"
            return .failure(RunEnding(result: await finish(.error, message: """
                the root model's context window is too small: the system prompt and task alone take about \(fixedTokens) tokens, \
                and a request may take \(compactor.limit) (\(Int(compactor.threshold * 100)) % of \(compactor.windowTokens) tokens, \
                \(source)); raise RLM_ROOT_CONTEXT_TOKENS (or RLM_COMPACTION_THRESHOLD) or shorten the task
                """)))
        case let .compact(fold, cutLatestTo):
            await progress?(iteration, request.limits.maxIterations, "\(label): compacting history")
            let compacted = await compactor.compact(
                history, fold: fold, cutLatestTo: cutLatestTo, iteration: iteration, extra: extra, estimator: estimator,
                inventory: { [self] in await self.replInventory() }
            )
            history = compacted.history
            pendingCompaction = compacted.record
            return .success(())
        }
    }

    /// The REPL's variables, listed by code run in the run's namespace.
    func replInventory() async -> ReplInventory {
        if namespaceLost { return .unavailable("the worker running the code was restarted; the next block has only `context`") }
        do {
            let sandbox = try await sandbox.get()
            _ = try await contextLoad?.value
            let result = try await sandbox.execute(ExecRequest(
                code: ReplInventory.snippet, namespace: .named(namespace), variables: pendingVariables(),
                timeout: min(.seconds(30), await ledger.remainingTime), maxOutputChars: 40_000
            ))
            if let error = result.error { return .unavailable("listing them failed: \(error.type): \(error.message)") }
            return ReplInventory.parse(stdout: result.stdout)
        } catch {
            return .unavailable("listing them failed: \(error)")
        }
    }
}
