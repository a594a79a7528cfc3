import ArgumentParser
import Daytona
import Foundation
import RLMConfig

/// `rlm-mcp cleanup [--dry-run]`: deletes every Daytona sandbox labelled app=rlm-mcp (leftovers of crashed servers).
struct Cleanup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete every Daytona sandbox labelled app=rlm-mcp (use --dry-run to only list them).",
        discussion: "Sandboxes of servers still running are deleted too; stop them first. Needs DAYTONA_API_KEY."
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "List the sandboxes that would be deleted, delete nothing.")
    var dryRun = false

    func run() async throws {
        let config = try options.resolve()
        guard let key = config.daytonaAPIKey else {
            FileHandle.standardError.write(Data("rlm-mcp cleanup: DAYTONA_API_KEY is not set; there is no Daytona account to clean up\n".utf8))
            throw ExitCode(2)
        }
        let logger = LogSetup.bootstrapStandardError(level: config.logLevel)
        let factory = DaytonaSandboxFactory(settings: DaytonaSettings(apiURL: config.daytonaAPIURL, apiKey: key.exposedValue,
                                                                      target: config.daytonaTarget.rawValue, snapshot: config.daytonaSnapshot),
                                            logger: logger)
        let results: [(sandbox: DaytonaSandboxInfo, error: String?)]
        do {
            results = try await factory.cleanup(dryRun: dryRun)
        } catch {
            FileHandle.standardError.write(Data("rlm-mcp cleanup: \(error)\n".utf8))
            throw ExitCode(1)
        }
        for (sandbox, error) in results {
            let workspace = sandbox.labels["rlm-mcp.workspace"].map { " workspace \($0)" } ?? ""
            if dryRun {
                print("would delete \(sandbox.id) (\(sandbox.state)\(workspace))")
            } else if let error {
                print("could not delete \(sandbox.id): \(error)")
            } else {
                print("deleted \(sandbox.id) (\(sandbox.state)\(workspace))")
            }
        }
        let failed = results.filter { $0.error != nil }.count
        print(dryRun ? "\(results.count) sandbox(es) labelled app=rlm-mcp" : "\(results.count - failed) deleted, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
