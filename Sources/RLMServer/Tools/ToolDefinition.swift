import RLMCommon
import Logging

/// One MCP tool: what clients see in `tools/list` and the code that runs on `tools/call`.
public struct ToolDefinition: Sendable {
    public typealias Handler = @Sendable (ToolArguments, ToolContext) async throws -> ToolOutput

    public let name: String
    public let title: String
    public let description: String
    public let input: Schema
    public let output: Schema
    public let annotations: ToolAnnotations
    /// Whether the registry resolves a `workspace` argument for this tool (see `WorkspaceUse`).
    public let workspaceUse: WorkspaceUse
    /// Runs long enough that 2026-07-28 clients declaring the Tasks extension get a task handle instead of waiting.
    public let longRunning: Bool
    public let handler: Handler

    /// `usesWorkspace: true` is `workspace: .required`: the registry adds an optional `workspace` argument and a
    /// `workspace` result field, resolves the handle and hands the `Workspace` to the handler in `context.workspace`.
    public init(
        name: String,
        title: String,
        description: String,
        input: Schema,
        output: Schema,
        annotations: ToolAnnotations = ToolAnnotations(),
        usesWorkspace: Bool = false,
        workspace: WorkspaceUse? = nil,
        longRunning: Bool = false,
        handler: @escaping Handler
    ) {
        let use = workspace ?? (usesWorkspace ? .required : .none)
        self.name = name
        self.title = title
        self.description = use == .required ? description + " " + WorkspaceUse.descriptionHint : description
        self.input = use.augment(input: input)
        self.output = use.augment(output: output)
        self.annotations = annotations
        self.workspaceUse = use
        self.longRunning = longRunning
        self.handler = handler
    }

    /// The entry a client receives from `tools/list` (both eras): rendered once, by the registry.
    var listing: JSONValue {
        var tool: [String: JSONValue] = [
            "name": .string(name), "title": .string(title), "description": .string(description),
            "inputSchema": input.json, "outputSchema": output.json,
        ]
        if let hints = annotations.json { tool["annotations"] = hints }
        return .object(tool)
    }
}

/// A tool's arguments after they passed schema validation, with typed accessors.
public struct ToolArguments: Sendable {
    public let values: [String: JSONValue]

    public init(_ values: [String: JSONValue]) { self.values = values }

    public func string(_ name: String) -> String? { values[name]?.stringValue }
    public func bool(_ name: String) -> Bool? { values[name]?.boolValue }
    public func int(_ name: String) -> Int? {
        switch values[name] {
        case let .int(n)?: n
        case let .double(d)?: Int(exactly: d)
        default: nil
        }
    }
    public func double(_ name: String) -> Double? {
        switch values[name] {
        case let .int(n)?: Double(n)
        case let .double(d)?: d
        default: nil
        }
    }
}

/// What a tool returns: a readable text block for people and models, and the structured result for programs.
public struct ToolOutput: Sendable {
    public let text: String
    public let structured: JSONValue
    public let links: [ResourceLink]

    public init(text: String, structured: JSONValue, links: [ResourceLink] = []) {
        self.text = text
        self.structured = structured
        self.links = links
    }
}

/// A failure the caller can act on; it reaches the client as an `isError` result carrying `message`.
public struct ToolError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Everything a handler may use besides its arguments.
public struct ToolContext: Sendable {
    /// The MCP session the call arrived on (an opaque id, and the transport's name); "stateless" for 2026-07-28 calls.
    public let sessionID: String
    /// The sandbox state the call works in: the workspace its `workspace` argument names, a new one, or the
    /// handshake-era session's default workspace.
    public let workspace: Workspace
    public let progress: ProgressReporter
    /// `notifications/message` for this call, delivered only at or above the level the request asked for.
    public let log: LogReporter
    /// The owner fingerprint of the caller's bearer token ("" without one): runs it starts are recorded as its.
    public let owner: String

    public init(sessionID: String, workspace: Workspace, progress: ProgressReporter, log: LogReporter = .none, owner: String = "") {
        self.sessionID = sessionID
        self.owner = owner
        self.workspace = workspace
        self.progress = progress
        self.log = log
    }
}

/// Sends `notifications/progress` for the current call when the client asked for it with a `progressToken`; otherwise does nothing.
public struct ProgressReporter: Sendable {
    typealias Sink = @Sendable (RequestID, ProgressUpdate) async -> Void

    let token: RequestID?
    let sink: Sink

    init(token: RequestID?, sink: @escaping Sink) {
        self.token = token
        self.sink = sink
    }

    public static let none = ProgressReporter(token: nil) { _, _ in }

    public var isRequested: Bool { token != nil }

    public func report(_ progress: Double, total: Double? = nil, message: String? = nil) async {
        guard let token else { return }
        await sink(token, ProgressUpdate(progress: progress, total: total, message: message))
    }
}

/// Where a tool's log lines go for the current request: the server's own log for 2026-07-28 requests (logging to the
/// client is deprecated there), nowhere otherwise (the handshake era offers no `logging/setLevel`).
public struct LogReporter: Sendable {
    public typealias Sink = @Sendable (LogLevel, String) async -> Void

    let threshold: LogLevel?
    let sink: Sink

    public init(threshold: LogLevel?, sink: @escaping Sink) {
        self.threshold = threshold
        self.sink = sink
    }

    public static let none = LogReporter(threshold: nil) { _, _ in }

    public func callAsFunction(_ level: LogLevel, _ message: String) async {
        guard let threshold, level >= threshold else { return }
        await sink(level, message)
    }
}

/// How a tool relates to workspaces.
public enum WorkspaceUse: Sendable, Equatable {
    /// No `workspace` argument.
    case none
    /// Takes a `workspace` to inspect but never creates one (e.g. `rlm_status`); the result's `workspace` is null when
    /// none was named.
    case optional
    /// Works in a workspace: the named one, else the session's default (handshake era) or a new one (2026-07-28).
    case required

    static let descriptionHint = "Returns `workspace`; pass it back in later calls to keep working in the same sandbox (files, REPLs)."

    private static let argument: Schema = .string(
        description: "Workspace handle (ws_…) from an earlier result, to continue in the same sandbox. Omit it to use "
            + "the session's workspace (handshake-era clients) or to get a new one (MCP 2026-07-28).",
        minLength: 4
    )

    func augment(input: Schema) -> Schema {
        guard self != .none, case let .object(properties, required, description, closed) = input else { return input }
        return .object(properties: properties + [("workspace", Self.argument)], required: required, description: description, closed: closed)
    }

    func augment(output: Schema) -> Schema {
        guard self != .none, case let .object(properties, required, description, closed) = output else { return output }
        let field: Schema = self == .required
            ? .string(description: "The workspace this call ran in; pass it back to continue there")
            : .nullable(.string(description: "The workspace reported on, when one was named"))
        return .object(properties: properties + [("workspace", field)], required: required + ["workspace"], description: description, closed: closed)
    }
}
