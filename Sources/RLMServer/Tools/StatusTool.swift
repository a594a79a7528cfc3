import Foundation
import History
import LanguageModels
import RLMCommon
import RLMConfig

/// `rlm_status`: what this server is, how it is configured and what it is doing, without revealing any secret.
struct StatusTool: ToolGroup {
    let config: RLMConfig
    let activity: ServerActivity
    let sandboxes: SandboxProvider
    let workspaces: WorkspaceStore
    let startedAt: ContinuousClock.Instant
    var history: HistoryHandle? = nil

    var tools: [ToolDefinition] { [status] }

    struct Report: Sendable {
        struct ProtocolVersions: Sendable {
            let handshake: [String]
            let modern: [String]
        }
        struct Models: Sendable {
            let root: String
            let sub: String
        }
        struct SandboxState: Sendable {
            let backend: String
            let state: String
            let isolation: String
            let namespaces: [String]
            let workers: Int
            let live_sandboxes: Int
            var sandbox_id: String? = nil
            var region: String? = nil
            /// Local: the cgroup that holds the sandbox's processes, or why there is none.
            var cgroup: String? = nil
            /// Local: the size and kind of the sandbox's /work quota.
            var disk: String? = nil
        }
        let version: String
        let protocol_versions: ProtocolVersions
        let transport: String
        let session: String
        let uptime_s: Double
        let models: Models
        let llm_configured: Bool
        let llm_hint: String?
        let sandbox: SandboxState
        let activity: ServerActivity.Snapshot
        let workspaces_open: Int
        var history = HistorySection(nil)
    }

    static let outputSchema: Schema = .object(properties: [
        ("version", .string()),
        ("protocol_versions", .object(properties: [
            ("handshake", .array(of: .string())),
            ("modern", .array(of: .string())),
        ], required: ["handshake", "modern"])),
        ("transport", .string(oneOf: RLMConfig.Transport.allCases.map(\.rawValue))),
        ("session", .string(description: "Id of the MCP session this call arrived on")),
        ("uptime_s", .number(minimum: 0)),
        ("models", .object(properties: [("root", .string()), ("sub", .string())], required: ["root", "sub"])),
        ("llm_configured", .boolean(description: "Whether the root model has the credentials or endpoint it needs")),
        ("llm_hint", .nullable(.string(description: "What to set when no language model is configured"))),
        ("sandbox", .object(properties: [
            ("backend", .string(oneOf: ["local", "daytona"])),
            ("state", .string(description: "The workspace's sandbox: not started, running or closed")),
            ("isolation", .string(description: "bubblewrap, unshare or none (unsafe) for the local backend")),
            ("namespaces", .array(of: .string(), description: "The workspace's named REPLs")),
            ("workers", .integer(description: "Live Python workers of the workspace, the warm spare included", minimum: 0)),
            ("live_sandboxes", .integer(description: "Sandboxes open across all sessions", minimum: 0)),
            ("sandbox_id", .nullable(.string(description: "Daytona: the workspace's sandbox id, once created"))),
            ("region", .nullable(.string(description: "Daytona: the sandbox's region (target)"))),
            ("cgroup", .nullable(.string(description: "Local: the cgroup holding the sandbox's processes and /tmp, or why there is none"))),
            ("disk", .nullable(.string(description: "Local: the /work quota (RLM_SANDBOX_DISK_MB) and how it is enforced"))),
        ], required: ["backend", "state", "isolation", "namespaces", "workers", "live_sandboxes"])),
        ("activity", .object(properties: [
            ("calls_in_flight", .integer(minimum: 0)),
            ("calls_succeeded", .integer(minimum: 0)),
            ("calls_failed", .integer(minimum: 0)),
            ("calls_cancelled", .integer(minimum: 0)),
            ("calls_rejected", .integer(minimum: 0)),
            ("sessions_open", .integer(minimum: 0)),
            ("sessions_total", .integer(minimum: 0)),
            ("runs_in_flight", .integer(minimum: 0)),
            ("runs_total", .integer(minimum: 0)),
        ], required: ["calls_in_flight", "calls_succeeded", "calls_failed", "calls_cancelled", "calls_rejected", "sessions_open", "sessions_total",
                      "runs_in_flight", "runs_total"])),
        ("workspaces_open", .integer(description: "Workspaces alive in this server process", minimum: 0)),
        ("history", historySchema),
    ], required: ["version", "protocol_versions", "transport", "session", "uptime_s", "models", "llm_configured", "sandbox", "activity", "workspaces_open"])

    private var status: ToolDefinition {
        let (config, activity, sandboxes, workspaces, startedAt, history) = (config, activity, sandboxes, workspaces, startedAt, history)
        return ToolDefinition(
            name: "rlm_status",
            title: "RLM server status",
            description: "Report the rlm-mcp server's version, supported MCP protocol versions, transport, configured root and sub models "
                + "(and whether their credentials are present), sandbox backend and isolation, and call counters. With `workspace`, "
                + "reports that workspace's sandbox (without one: the session's, for handshake-era clients). Secrets are never included.",
            input: .object(properties: []),
            output: Self.outputSchema,
            annotations: .init(title: "RLM server status", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false),
            workspace: .optional
        ) { _, context in
            let sandbox = await context.workspace.status()
            let isolation = await sandboxes.isolation
            let live = await sandboxes.live
            let state = Report.SandboxState(
                backend: config.sandboxBackend.rawValue,
                state: sandbox?.state ?? "not started",
                isolation: sandbox?.isolation ?? isolation,
                namespaces: sandbox?.namespaces ?? [],
                workers: sandbox?.workers ?? 0,
                live_sandboxes: live,
                sandbox_id: sandbox?.details["sandbox_id"],
                region: sandbox?.details["region"],
                cgroup: sandbox?.details["cgroup"],
                disk: sandbox?.details["disk"]
            )
            var report = await Self.makeReport(config: config, activity: activity, sandbox: state, startedAt: startedAt, sessionID: context.sessionID,
                                          workspacesOpen: await workspaces.count)
            report.history = HistorySection(history)
            return ToolOutput(text: Self.render(report), structured: report.value)
        }
    }

    static func makeReport(config: RLMConfig, activity: ServerActivity, sandbox: Report.SandboxState, startedAt: ContinuousClock.Instant,
                           sessionID: String, workspacesOpen: Int) async -> Report {
                return Report(
            version: RLMVersion.current,
            protocol_versions: .init(handshake: HandshakeSession.versions.sorted(), modern: ModernProtocol.supportedVersions),
            transport: config.transport.rawValue,
            session: sessionID,
            uptime_s: (startedAt.secondsAgo * 1000).rounded() / 1000,
            models: .init(root: config.model, sub: config.subtaskModel),
            llm_configured: config.llmConfigured,
            llm_hint: config.llmSetupHint,
            sandbox: sandbox,
            activity: await activity.snapshot,
            workspaces_open: workspacesOpen
        )
    }

    static func render(_ report: Report) -> String {
        var lines = [
            "rlm-mcp \(report.version) over \(report.transport), up \((report.uptime_s * 10).rounded() / 10) s",
            "MCP protocol versions: \((report.protocol_versions.handshake + report.protocol_versions.modern).joined(separator: ", "))",
            "models: root \(report.models.root), sub \(report.models.sub) — \(report.llm_configured ? "configured" : "NOT configured")",
        ]
        if let hint = report.llm_hint { lines.append("  \(hint)") }
        let box = report.sandbox
        lines.append("sandbox: \(box.backend), \(box.state), isolation \(box.isolation); \(box.workers) workers, "
            + "REPLs: \(box.namespaces.isEmpty ? "none" : box.namespaces.joined(separator: ", ")); \(box.live_sandboxes) sandboxes open in all sessions"
            + (box.sandbox_id.map { "; Daytona sandbox \($0)" } ?? "") + (box.region.map { " in region \($0)" } ?? ""))
        let a = report.activity
        lines.append("calls: \(a.calls_in_flight) in flight, \(a.calls_succeeded) ok, \(a.calls_failed) failed, "
            + "\(a.calls_cancelled) cancelled, \(a.calls_rejected) rejected; sessions: \(a.sessions_open) open, \(a.sessions_total) total; "
            + "RLM runs: \(a.runs_in_flight) in flight, \(a.runs_total) total; workspaces: \(report.workspaces_open) open")
        lines.append(report.history.line)
        return lines.joined(separator: "\n")
    }
}

extension StatusTool.Report {
    /// Built by hand: `JSONValue(codable)` encodes to JSON and decodes it back, which costs more than the rest of the call.
    var value: JSONValue {
        [
            "version": .string(version),
            "protocol_versions": ["handshake": .array(protocol_versions.handshake.map(JSONValue.string)), "modern": .array(protocol_versions.modern.map(JSONValue.string))],
            "transport": .string(transport),
            "session": .string(session),
            "uptime_s": .double(uptime_s),
            "models": ["root": .string(models.root), "sub": .string(models.sub)],
            "llm_configured": .bool(llm_configured),
            "llm_hint": llm_hint.map(JSONValue.string) ?? .null,
            "sandbox": [
                "backend": .string(sandbox.backend), "state": .string(sandbox.state), "isolation": .string(sandbox.isolation),
                "namespaces": .array(sandbox.namespaces.map(JSONValue.string)), "workers": .int(sandbox.workers), "live_sandboxes": .int(sandbox.live_sandboxes),
                "sandbox_id": sandbox.sandbox_id.map(JSONValue.string) ?? .null, "region": sandbox.region.map(JSONValue.string) ?? .null,
                "cgroup": sandbox.cgroup.map(JSONValue.string) ?? .null,
                "disk": sandbox.disk.map(JSONValue.string) ?? .null,
            ],
            "activity": [
                "calls_in_flight": .int(activity.calls_in_flight),
                "calls_succeeded": .int(activity.calls_succeeded),
                "calls_failed": .int(activity.calls_failed),
                "calls_cancelled": .int(activity.calls_cancelled),
                "calls_rejected": .int(activity.calls_rejected),
                "sessions_open": .int(activity.sessions_open),
                "sessions_total": .int(activity.sessions_total),
                "runs_in_flight": .int(activity.runs_in_flight),
                "runs_total": .int(activity.runs_total),
            ],
            "workspaces_open": .int(workspaces_open),
            "history": history.value,
        ]
    }
}
