import MCP

/// One MCP tool: what clients see in `tools/list` and the code that runs on `tools/call`.
public struct ToolDefinition: Sendable {
    public typealias Handler = @Sendable (ToolArguments, ToolContext) async throws -> ToolOutput

    public let name: String
    public let title: String
    public let description: String
    public let input: Schema
    public let output: Schema
    public let annotations: Tool.Annotations
    public let handler: Handler

    public init(
        name: String,
        title: String,
        description: String,
        input: Schema,
        output: Schema,
        annotations: Tool.Annotations = nil,
        handler: @escaping Handler
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.input = input
        self.output = output
        self.annotations = annotations
        self.handler = handler
    }

    /// The entry a client receives from `tools/list`.
    public var mcpTool: Tool {
        Tool(name: name, title: title, description: description, inputSchema: input.json, annotations: annotations, outputSchema: output.json)
    }
}

/// A tool's arguments after they passed schema validation, with typed accessors.
public struct ToolArguments: Sendable {
    public let values: [String: Value]

    public init(_ values: [String: Value]) { self.values = values }

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
    public let structured: Value

    public init(text: String, structured: Value) {
        self.text = text
        self.structured = structured
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
    /// The MCP session the call arrived on (an opaque id, and the transport's name).
    public let sessionID: String
    /// The session's sandbox state.
    public let workspace: Workspace
    public let progress: ProgressReporter

    public init(sessionID: String, workspace: Workspace, progress: ProgressReporter) {
        self.sessionID = sessionID
        self.workspace = workspace
        self.progress = progress
    }
}

/// Sends `notifications/progress` for the current call when the client asked for it with a `progressToken`; otherwise does nothing.
public struct ProgressReporter: Sendable {
    public typealias Sink = @Sendable (ProgressNotification.Parameters) async -> Void

    let token: ProgressToken?
    let sink: Sink

    public init(token: ProgressToken?, sink: @escaping Sink) {
        self.token = token
        self.sink = sink
    }

    public static let none = ProgressReporter(token: nil) { _ in }

    public var isRequested: Bool { token != nil }

    public func report(_ progress: Double, total: Double? = nil, message: String? = nil) async {
        guard let token else { return }
        await sink(.init(progressToken: token, progress: progress, total: total, message: message))
    }
}
