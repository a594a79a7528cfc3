import Foundation

/// The worker script both backends run (`Resources/rlm_worker.py`): local sandboxes start it, remote ones upload it.
public enum WorkerScript {
    /// Where the script is on this machine: in the Sandboxes resource bundle beside the binary.
    public static func path() throws(SandboxError) -> String {
        guard let path = Bundle.module.path(forResource: "rlm_worker", ofType: "py") else {
            throw .workerFailed("rlm_worker.py is missing next to the rlm-mcp binary (its resource bundle was not installed with it)")
        }
        return path
    }

    /// The script's bytes, for a backend that uploads it.
    public static func contents() throws(SandboxError) -> Data {
        let path = try path()
        guard let script = FileManager.default.contents(atPath: path) else {
            throw .workerFailed("could not read the worker script \(path)")
        }
        return script
    }
}
