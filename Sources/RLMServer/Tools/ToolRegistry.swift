import Logging
import RLMCommon

/// The one place that knows every tool: it lists them, validates arguments against their schemas and runs their handlers.
public struct ToolRegistry: Sendable {
    public let tools: [ToolDefinition]
    /// The `tools/list` array, rendered once: rendering every schema on each `tools/list` would cost more than answering it.
    let listing: JSONValue
    private let byName: [String: ToolDefinition]
    private let activity: ServerActivity
    private let logger: Logger
    /// Resolves `workspace` arguments; nil only in tests of tools that use no workspace.
    public let workspaces: WorkspaceStore?

    public init(tools: [ToolDefinition], activity: ServerActivity, logger: Logger, workspaces: WorkspaceStore? = nil) {
        self.tools = tools
        self.listing = .array(tools.map(\.listing))
        self.byName = Dictionary(uniqueKeysWithValues: tools.map { ($0.name, $0) })
        self.activity = activity
        self.logger = logger
        self.workspaces = workspaces
    }

    public func tool(named name: String) -> ToolDefinition? { byName[name] }

    /// Runs one `tools/call` for `caller`: resolves the tool's workspace (the `workspace` argument, else the caller's
    /// default), runs the call in it and reports the workspace back in the result.
    public func call(name: String, arguments: [String: JSONValue]?, caller: ToolCaller) async throws -> ToolResult {
        // TELEMETRY HOOK: every tools/call of both eras passes here.
        try await TelemetryHooks.toolCall(name, registry: self) { try await resolveAndCall(name: name, arguments: arguments, caller: caller) }
    }

    private func resolveAndCall(name: String, arguments: [String: JSONValue]?, caller: ToolCaller) async throws -> ToolResult {
        guard let tool = byName[name] else { throw Self.unknownTool(name, tools: tools) }
        let values = arguments ?? [:]
        guard tool.workspaceUse != .none, let workspaces else {
            return try await call(name: name, arguments: arguments, context: caller.context(workspace: caller.detachedWorkspace))
        }
        // Checked here as well as by the schema so that a bad handle is reported before anything is created.
        if let given = values["workspace"], given != .null, given.stringValue == nil {
            await activity.recordRejected()
            return Self.errorResult("Invalid arguments for \(name): argument \"workspace\" must be a string (a ws_… handle from an earlier result)")
        }
        let workspace: Workspace
        var leased = false
        if let handle = values["workspace"]?.stringValue {
            do {
                workspace = try await workspaces.lease(handle: handle, owner: caller.owner)
                leased = true
            } catch {
                await activity.recordRejected()
                return Self.errorResult(error.message)
            }
        } else {
            switch (caller.defaultWorkspace, tool.workspaceUse) {
            case let (.some(session), _): workspace = session
            case (nil, .required):
                workspace = await workspaces.createForCall(owner: caller.owner)
                leased = true
            case (nil, _): workspace = caller.detachedWorkspace
            }
        }
        let result: ToolResult
        do {
            result = try await call(name: name, arguments: arguments, context: caller.context(workspace: workspace))
        } catch {
            // Released before the error (a cancellation too) leaves, so the next call finds the lease count right.
            if leased { await workspaces.release(workspace) }
            throw error
        }
        if leased { await workspaces.release(workspace) }
        // Tools report the workspace they ran in; an inspecting tool with none named reports null.
        let reported: JSONValue = workspace.handle.isEmpty ? .null : .string(workspace.handle)
        // The structured `workspace` field was added (and validated) with the output; a text block of its own says it
        // to readers too, leaving the tool's own text (e.g. a downloaded file) untouched.
        guard case let .string(handle) = reported else { return result }
        return ToolResult(texts: result.texts + ["workspace: \(handle)"], links: result.links, structuredContent: result.structuredContent,
                          isError: result.isError)
    }

    static func unknownTool(_ name: String, tools: [ToolDefinition]) -> RPCError {
        .unknownTool(name, available: tools.map(\.name))
    }

    /// Runs one `tools/call`. Bad arguments and handler failures become `isError` results; an unknown tool name is a
    /// protocol error (-32602) as the MCP spec asks; cancellation propagates so no response is sent.
    public func call(name: String, arguments: [String: JSONValue]?, context: ToolContext) async throws -> ToolResult {
        guard let tool = byName[name] else { throw Self.unknownTool(name, tools: tools) }
        let values = arguments ?? [:]
        do {
            try tool.input.validate(.object(values))
        } catch {
            await activity.recordRejected()
            return Self.errorResult("Invalid arguments for \(name): \(error). See the tool's inputSchema.")
        }

        await activity.callStarted()
        do {
            let output = try await tool.handler(ToolArguments(values), context)
            try Task.checkCancellation()
            await activity.callFinished(.succeeded)
            var structured = output.structured
            if tool.workspaceUse != .none, case var .object(fields) = structured {
                // The registry owns this field; it is validated with the rest of the output.
                fields["workspace"] = context.workspace.handle.isEmpty ? .null : .string(context.workspace.handle)
                structured = .object(fields)
            }
            do {
                try tool.output.validate(structured)
            } catch {
                logger.error("tool output breaks its outputSchema", metadata: ["tool": "\(name)", "violation": "\(error)"])
                return Self.errorResult("Internal error: \(name) produced a result that does not match its outputSchema (\(error)). Please report this.")
            }
            return ToolResult(texts: [output.text], links: output.links, structuredContent: structured)
        } catch is CancellationError {
            await activity.callFinished(.cancelled)
            logger.debug("tool call cancelled", metadata: ["tool": "\(name)"])
            throw CancellationError()
        } catch let error as ToolError {
            await activity.callFinished(.failed)
            return Self.errorResult(error.message)
        } catch {
            await activity.callFinished(.failed)
            logger.error("tool failed unexpectedly", metadata: ["tool": "\(name)", "error": "\(error)"])
            return Self.errorResult("Internal error in \(name): \(error)")
        }
    }

    static func errorResult(_ message: String) -> ToolResult {
        ToolResult(texts: [message], isError: true)
    }
}

/// Who is calling a tool, as the registry needs to know to pick the call's workspace.
public struct ToolCaller: Sendable {
    public let sessionID: String
    /// The owner fingerprint of the caller's bearer token ("" without one); workspaces are bound to it.
    public let owner: String
    /// The handshake-era session's workspace, used when no `workspace` is named; nil for 2026-07-28 calls.
    public let defaultWorkspace: Workspace?
    /// Stands in for "no workspace" in tools that only inspect one; closed, so it never starts a sandbox.
    let detachedWorkspace: Workspace
    public let progress: ProgressReporter
    public let log: LogReporter

    public init(sessionID: String, owner: String, defaultWorkspace: Workspace?, detachedWorkspace: Workspace,
                progress: ProgressReporter, log: LogReporter = .none) {
        self.sessionID = sessionID
        self.owner = owner
        self.defaultWorkspace = defaultWorkspace
        self.detachedWorkspace = detachedWorkspace
        self.progress = progress
        self.log = log
    }

    func context(workspace: Workspace) -> ToolContext {
        ToolContext(sessionID: sessionID, workspace: workspace, progress: progress, log: log, owner: owner)
    }
}
