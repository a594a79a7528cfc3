import Foundation
import PostgresNIO
import RLMConfig

/// `RLM_DATABASE_URL` taken apart: `postgres://user:password@host:port/database?sslmode=…`, or a Unix-socket folder
/// as `?host=/path` (what a local throwaway cluster listens on).
struct PostgresURL: Sendable {
    var host: String
    var port: Int
    var socketFolder: String?
    var username: String
    var password: String?
    var database: String
    var sslMode: SSLMode

    /// How the connection uses TLS, as libpq spells it.
    enum SSLMode: String {
        case disable, prefer, require
    }

    /// host:port/database, safe for messages and logs (never the credentials).
    var server: String { "\(socketFolder ?? host):\(port)/\(database)" }

    init(_ secret: Secret) throws(HistoryError) {
        guard let parts = URLComponents(string: secret.exposedValue),
              let scheme = parts.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw .invalidDatabaseURL(problem: "not a postgres:// URL")
        }
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        socketFolder = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        guard let host = parts.host.flatMap({ $0.isEmpty ? nil : $0 }) ?? (socketFolder == nil ? nil : "localhost") else {
            throw .invalidDatabaseURL(problem: "no host")
        }
        self.host = host
        port = parts.port ?? 5432
        guard let user = parts.user, !user.isEmpty else { throw .invalidDatabaseURL(problem: "no user name") }
        username = user.removingPercentEncoding ?? user
        password = parts.password.map { $0.removingPercentEncoding ?? $0 }
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        database = path.isEmpty ? username : path
        guard let mode = SSLMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw .invalidDatabaseURL(problem: "sslmode must be disable, prefer or require")
        }
        sslMode = mode
    }

    /// How long one connection may take, TCP connect and PostgreSQL start-up together: a server that drops or never
    /// answers is given up on after this, not after the pool's minute of retries.
    static let connectTimeout: Duration = .seconds(10)

    var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketFolder {
            configuration = .init(unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS = switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(.makeClientConfiguration())
            case .require: .require(.makeClientConfiguration())
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = 8
        configuration.options.connectTimeout = Self.connectTimeout
        return configuration
    }

    /// The same server, user and TLS for one connection outside the pool (the open's first contact).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socketFolder {
            configuration = .init(unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS = switch sslMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = TimeAmount(Self.connectTimeout)
        return configuration
    }
}
