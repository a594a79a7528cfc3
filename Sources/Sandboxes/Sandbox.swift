import Foundation
import RLMCommon

/// Where LLM-written code runs. The engine and the tools talk only to this protocol; the local worker backend and
/// the Daytona backend implement it. Paths are relative to the sandbox's working directory.
public protocol Sandbox: Sendable {
    /// Runs `code` in `namespace`. `fresh` namespaces are discarded after the call; others keep their variables.
    /// Throws `SandboxError`, or `CancellationError` when the calling task is cancelled (the worker is killed).
    func execute(_ request: ExecRequest) async throws -> ExecResult
    /// Forgets a namespace's variables (its worker is stopped).
    func resetNamespace(_ name: String) async
    /// Loads a file of the sandbox into `variable` of the named namespace: as a str (`kind` "text") or parsed as JSON
    /// (`kind` "json"). This is how an RLM run's `context` arrives without passing through a prompt.
    func loadVariable(_ variable: String, fromFile path: String, kind: String, namespace: String, timeout: Duration) async throws -> LoadedVariable
    func uploadFile(path: String, data: Data) async throws(SandboxError) -> Int
    /// Deletes one file (never a directory).
    func removeFile(path: String) async throws(SandboxError)
    func downloadFile(path: String, maxBytes: Int) async throws(SandboxError) -> Data
    func listFiles(path: String, recursive: Bool) async throws(SandboxError) -> [FileEntry]
    /// Throws `SandboxError`, or `CancellationError` when the calling task is cancelled (the command is killed).
    func shell(command: String, cwd: String?, timeout: Duration) async throws -> ShellResult
    func status() async -> SandboxStatus
    /// Stops every worker and deletes the working directory.
    func shutdown() async
    /// Stops this process's use of the sandbox but leaves the sandbox and its files to others sharing it (server
    /// replicas serving one workspace); backends whose sandboxes cannot outlive the server just shut down.
    func detach() async
}

extension Sandbox {
    public func detach() async { await shutdown() }
}

/// One code execution.
public struct ExecRequest: Sendable {
    public enum Namespace: Sendable, Equatable {
        /// A throw-away namespace for this call only.
        case fresh
        /// A named namespace whose variables persist across calls.
        case named(String)
    }

    public var code: String
    public var namespace: Namespace
    /// Variables defined in the namespace before the code runs.
    public var variables: [String: JSONValue]?
    public var timeout: Duration
    public var maxOutputChars: Int
    /// Answers `llm_query` / `llm_query_batched` / `rlm_query` calls made by the code.
    public var onSubCall: SubCallHandler

    public init(code: String, namespace: Namespace, variables: [String: JSONValue]? = nil, timeout: Duration, maxOutputChars: Int = 20_000,
                onSubCall: @escaping SubCallHandler = SubCall.unavailable) {
        self.code = code
        self.namespace = namespace
        self.variables = variables
        self.timeout = timeout
        self.maxOutputChars = maxOutputChars
        self.onSubCall = onSubCall
    }
}

/// A request the running code made to the host.
public enum SubCall: Sendable, Equatable {
    case llmQuery(prompt: String, model: String?)
    case llmQueryBatched(prompts: [String], model: String?)
    case rlmQuery(task: String, context: String?)

    /// What the host answers when no engine is attached: the code gets a `RuntimeError` with this message.
    public static let unavailable: SubCallHandler = { call in
        .failure("\(call.name) is not available here: sub-LLM calls need an RLM run (rlm_execute) with a configured language model")
    }

    public var name: String {
        switch self {
        case .llmQuery: "llm_query"
        case .llmQueryBatched: "llm_query_batched"
        case .rlmQuery: "rlm_query"
        }
    }
}

public enum SubCallReply: Sendable, Equatable {
    case text(String)
    case texts([String])
    case failure(String)
}

public typealias SubCallHandler = @Sendable (SubCall) async -> SubCallReply

/// What one execution produced.
public struct ExecResult: Sendable, Equatable {
    public struct Failure: Sendable, Equatable {
        public var type: String
        public var message: String
        public var traceback: String

        public init(type: String, message: String, traceback: String) {
            self.type = type
            self.message = message
            self.traceback = traceback
        }
    }

    public var stdout: String
    public var stderr: String
    public var error: Failure?
    /// The fields given to `SUBMIT(...)`, when the code called it.
    public var submitted: [String: JSONValue]?
    public var truncated: Bool
    public var durationMS: Double
    /// Set when the worker running the code was lost with its variables (today: a timeout, reported as `error` too).
    public var workerFailure: WorkerFailure?

    public init(stdout: String, stderr: String, error: Failure?, submitted: [String: JSONValue]?, truncated: Bool, durationMS: Double,
                workerFailure: WorkerFailure? = nil) {
        self.stdout = stdout
        self.stderr = stderr
        self.error = error
        self.submitted = submitted
        self.truncated = truncated
        self.durationMS = durationMS
        self.workerFailure = workerFailure
    }

    /// The result of code whose worker was lost: the failure is also the Python-style `error` the caller shows.
    public static func lost(_ failure: WorkerFailure, durationMS: Double) -> ExecResult {
        let type = if case .timedOut = failure { "Timeout" } else { "WorkerDied" }
        return ExecResult(stdout: "", stderr: "", error: Failure(type: type, message: failure.description, traceback: ""),
                          submitted: nil, truncated: false, durationMS: durationMS, workerFailure: failure)
    }
}

/// What a `loadVariable` put into the namespace.
public struct LoadedVariable: Sendable, Equatable {
    /// The Python type name (`str`, `dict`, `list`).
    public var type: String
    public var length: Int

    public init(type: String, length: Int) {
        self.type = type
        self.length = length
    }
}

public struct ShellResult: Sendable, Equatable {
    public var stdout: String
    public var stderr: String
    public var exitCode: Int32
    public var timedOut: Bool
    public var truncated: Bool
    public var durationMS: Double

    package init(stdout: String, stderr: String, exitCode: Int32, timedOut: Bool, truncated: Bool, durationMS: Double) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
        self.timedOut = timedOut
        self.truncated = truncated
        self.durationMS = durationMS
    }
}

public struct FileEntry: Sendable, Equatable {
    public var name: String
    public var path: String
    public var isDirectory: Bool
    public var size: Int
    /// Seconds since 1970.
    public var modified: Double

    package init(name: String, path: String, isDirectory: Bool, size: Int, modified: Double) {
        self.name = name
        self.path = path
        self.isDirectory = isDirectory
        self.size = size
        self.modified = modified
    }
}

public struct SandboxStatus: Sendable, Equatable {
    public var backend: String
    public var state: String
    public var isolation: String
    public var namespaces: [String]
    public var workers: Int
    /// Backend facts worth showing, e.g. Daytona's `sandbox_id` and `region`.
    public var details: [String: String] = [:]

    public init(backend: String, state: String, isolation: String, namespaces: [String], workers: Int, details: [String: String] = [:]) {
        self.backend = backend
        self.state = state
        self.isolation = isolation
        self.namespaces = namespaces
        self.workers = workers
        self.details = details
    }
}

/// Why a sandbox operation failed, worded for the person or model that made the call.
public enum SandboxError: Error, Equatable, CustomStringConvertible {
    case invalidPath(String, reason: String)
    case notFound(String)
    case tooLarge(String, size: Int, limit: Int)
    case tooManyEntries(String, limit: Int)
    /// A FIFO, socket or device: code in the sandbox can make these, and opening one could wait forever.
    case notARegularFile(String)
    case isolationUnavailable(String)
    /// The worker could not be started or used (a setup problem, a busy or closed sandbox).
    case workerFailed(String)
    /// The worker running the code was lost, and the namespace's variables with it.
    case workerLost(WorkerFailure)
    case io(String)

    public var description: String {
        switch self {
        case let .invalidPath(path, reason): "path \"\(path)\" is not allowed: \(reason)"
        case let .notFound(path): "\(path) does not exist in the sandbox; list files with sandbox_files"
        case let .tooLarge(path, size, limit): "\(path) is \(size) bytes, over the \(limit)-byte limit for one download"
        case let .notARegularFile(path): "\(path) is not a regular file (a FIFO, socket or device); only regular files can be read or written here"
        case let .tooManyEntries(path, limit): "\(path) holds more than \(limit) entries; list a subfolder, or list without recursive"
        case let .isolationUnavailable(message): message
        case let .workerFailed(message): message
        case let .workerLost(failure): failure.description
        case let .io(message): message
        }
    }
}
