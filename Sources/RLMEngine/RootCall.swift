import LanguageModels

extension RLMEngine {
    /// One root-model call under a run's budgets, as the loop, its fallback and `rlm_decompose` all make it: the call
    /// is reserved, made and its usage recorded. A spent budget or a failed call comes back as the way the run ends;
    /// cancellation throws.
    func callRoot(_ request: ChatRequest, ledger: RunLedger) async throws -> Result<ChatResponse, RootCallEnding> {
        do {
            try await ledger.reserve(1)
        } catch {
            return .failure(RootCallEnding(status: .budgetExceeded, message: error.message))
        }
        do {
            let response = try await rootModel.complete(request)
            await ledger.record(response)
            return .success(response)
        } catch {
            try Task.checkCancellation()
            return .failure(RootCallEnding(status: .error, message: "the root model call failed: \(error.description)"))
        }
    }
}

/// Why a root-model call ended the run: its status and the message the user reads.
struct RootCallEnding: Error {
    let status: RunStatus
    let message: String
}
