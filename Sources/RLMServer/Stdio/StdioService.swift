import Foundation
import Logging
import ServiceLifecycle

/// Serves one MCP connection over stdin/stdout until the client closes stdin or the process is asked to stop; both
/// eras share it (2026-07-28 requests are told apart per message by their `_meta`).
public struct StdioService: Service {
    let runtime: ServerRuntime

    public init(runtime: ServerRuntime) { self.runtime = runtime }

    /// How long end of input waits for the answers still owed, so that `rlm-mcp < requests.jsonl` prints every response
    /// while a client that quit does not keep work running.
    static let endOfInputGrace = Duration.seconds(2)

    public func run() async throws {
        let output = StdioWriter(fd: STDOUT_FILENO, logger: runtime.logger)
        let connection = await Connection.open(runtime: runtime, id: "stdio") { message in output.send(message.data) }
        let lines = StdioLineReader.start(fd: STDIN_FILENO, logger: runtime.logger)
        runtime.logger.info("serving MCP over stdio")
        // Shutdown cancels the read loop (an AsyncStream ends when its reader is cancelled).
        await cancelWhenGracefulShutdown {
            for await line in lines { await connection.receive(line) }
        }
        if !Task.isCancelled {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await connection.waitUntilIdle() }
                group.addTask { try? await Task.sleep(for: Self.endOfInputGrace) }
                await group.next()
                group.cancelAll()
            }
        }
        await connection.close()
        runtime.logger.info("stdio session ended")
    }
}
