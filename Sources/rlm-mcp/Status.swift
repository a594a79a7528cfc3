import ArgumentParser
import LanguageModels
import RLMConfig

/// `rlm-mcp status`: the resolved configuration (secrets masked), the sandbox backend and whether models are usable.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the resolved configuration with secrets masked, the sandbox backend and LLM readiness."
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print the name of every configuration variable, one per line, and exit (what .env.example documents).")
    var listVariables = false

    func run() throws {
        if listVariables {
            RLMConfig.variableNames.forEach { print($0) }
            return
        }
        let config = try options.resolve()
        print("rlm-mcp \(RLMVersion.current)\n")
        let width = config.summary.map(\.variable.count).max() ?? 0
        for entry in config.summary {
            let padded = entry.variable.padding(toLength: width, withPad: " ", startingAt: 0)
            print("  \(padded)  \(entry.value)\(entry.source == "default" ? "" : "   (\(entry.source))")")
        }
        print("")
        print("sandbox backend: \(config.sandboxBackend.rawValue)"
            + (config.sandbox == .auto ? " (RLM_SANDBOX=auto: \(config.daytonaAPIKey == nil ? "no DAYTONA_API_KEY" : "DAYTONA_API_KEY is set"))" : ""))
        print("OpenAI credentials: \(config.openAIAPIKey == nil ? "missing" : "present"); "
            + "Anthropic credentials: \(config.anthropicAPIKey == nil ? "missing" : "present")")
        print("root model \(config.model): " + (config.llmConfigured ? "ready" : "not configured"))
        if let hint = config.llmSetupHint { print("  " + hint) }
    }
}
