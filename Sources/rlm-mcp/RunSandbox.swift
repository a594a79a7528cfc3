import RLMCommon
import Sandboxes

/// The one sandbox of an `rlm-mcp run`: made from the configured backend (`SandboxBackends`) when the engine first
/// needs it, deleted when the run ends.
actor RunSandbox {
    private let factory: any SandboxFactory
    private var making: Task<any Sandbox, any Error>?

    init(factory: any SandboxFactory) {
        self.factory = factory
    }

    func get() async throws -> any Sandbox {
        if making == nil {
            let factory = factory
            making = Task {
                do {
                    return try await factory.makeSandbox(workspaceID: RandomID.base36(), shared: false)
                } catch {
                    throw StartFailure(reason: error)
                }
            }
        }
        return try await making!.value
    }

    /// Deletes the sandbox (if one was made) and what the backend left behind.
    func close() async {
        if let sandbox = try? await making?.value { await sandbox.shutdown() }
        making = nil
        await factory.shutdown()
    }

    /// The backend could not make a sandbox; `reason` says why and what to set.
    struct StartFailure: Error, CustomStringConvertible {
        let reason: any Error
        var description: String { "cannot start a sandbox: \(reason)" }
    }
}
