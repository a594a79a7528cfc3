import Logging
import MCP

/// The one place that knows every tool: it lists them, validates arguments against their schemas and runs their handlers.
public struct ToolRegistry: Sendable {
    public let tools: [ToolDefinition]
    /// Built once: rendering every schema on each `tools/list` would cost more than answering it.
    public let mcpTools: [Tool]
    private let byName: [String: ToolDefinition]
    private let activity: ServerActivity
    private let logger: Logger

    public init(tools: [ToolDefinition], activity: ServerActivity, logger: Logger) {
        self.tools = tools
        self.mcpTools = tools.map(\.mcpTool)
        self.byName = Dictionary(uniqueKeysWithValues: tools.map { ($0.name, $0) })
        self.activity = activity
        self.logger = logger
    }

    /// Runs one `tools/call`. Bad arguments and handler failures become `isError` results; an unknown tool name is a
    /// protocol error (-32602) as the MCP spec asks; cancellation propagates so the SDK sends no response.
    public func call(name: String, arguments: [String: Value]?, context: ToolContext) async throws -> CallTool.Result {
        guard let tool = byName[name] else {
            throw MCPError.invalidParams("Unknown tool \"\(name)\". Available tools: \(tools.map(\.name).joined(separator: ", "))")
        }
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
            do {
                try tool.output.validate(output.structured)
            } catch {
                logger.error("tool output breaks its outputSchema", metadata: ["tool": "\(name)", "violation": "\(error)"])
                return Self.errorResult("Internal error: \(name) produced a result that does not match its outputSchema (\(error)). Please report this.")
            }
            let structured: Value? = output.structured
            return CallTool.Result(content: [.text(text: output.text, annotations: nil, _meta: nil)], structuredContent: structured)
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

    static func errorResult(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
    }
}
