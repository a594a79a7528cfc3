import Daytona
import RLMConfig
import Sandboxes

/// The one place sandbox backends are wired: which factory `RLM_SANDBOX` (and the Daytona key) select, built from the
/// configuration. The server's workspaces and `rlm-mcp run` both get their sandboxes from here.
public enum SandboxBackends {
    /// Who the sandboxes serve: a server keeps warm spares for the calls to come; a single run does not.
    public enum Use: Sendable {
        case server
        case singleRun
    }

    public static func factory(for config: RLMConfig, use: Use = .server) -> any SandboxFactory {
        switch config.sandboxBackend {
        case .local:
            var limits = LocalSandbox.Limits(memoryMB: config.sandboxMemoryMB)
            limits.keepsWarmSpare = use == .server
            limits.maxNamedWorkers = config.maxWorkspaceWorkers
            limits.tmpMB = config.sandboxTmpMB
            limits.diskMB = config.sandboxDiskMB
            limits.totalMemoryMB = config.sandboxTotalMemoryMB
            return LocalSandboxFactory(settings: .init(
                python: config.python, isolation: config.sandboxIsolation, allowUnsafe: config.sandboxUnsafe,
                limits: limits, maxWorkers: config.maxWorkers
            ))
        case .daytona:
            guard let key = config.daytonaAPIKey else {
                return Unavailable(reason: "RLM_SANDBOX=daytona needs DAYTONA_API_KEY; set it, or set RLM_SANDBOX=local to run code in the local sandbox")
            }
            var settings = DaytonaSettings(apiURL: config.daytonaAPIURL, apiKey: key.exposedValue,
                                           target: config.daytonaTarget.rawValue, snapshot: config.daytonaSnapshot)
            settings.network = switch config.sandboxNetwork {
            case .block: .blocked
            case .allow: .open
            case let .allowList(cidrs): .allowList(cidrs)
            }
            return DaytonaSandboxes(settings: settings)
        }
    }

    /// A backend the configuration chose but cannot use: every sandbox request says what to set.
    struct Unavailable: SandboxFactory {
        let reason: String

        func makeSandbox(workspaceID _: String, shared _: Bool) throws(SandboxError) -> any Sandbox {
            throw .isolationUnavailable(reason)
        }

        var isolationSummary: String { "none (\(reason))" }

        func shutdown() {}
    }
}
