import Logging
import PostgresNIO

/// The open's first contact with PostgreSQL: one connection outside the pool, so a server that refuses, rejects the
/// credentials or never answers fails the open within `PostgresURL.connectTimeout`, with its own reason. (The pool
/// retries a failing connection for a minute before it gives up, and then says only that it did.)
enum PostgresProbe {
    static func connect(_ url: PostgresURL, logger: Logger) async throws(HistoryError) {
        do {
            let connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 0, logger: logger)
            try? await connection.close()
        } catch {
            throw .database(server: url.server, reason: PostgresProblem.describe(error))
        }
    }
}
