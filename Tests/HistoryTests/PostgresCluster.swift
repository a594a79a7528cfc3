import Foundation
import RLMConfig

/// A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary folder, a server listening on a Unix socket
/// there only, stopped when the test process exits. As root (CI) the server runs as the `postgres` user, since
/// PostgreSQL refuses to run as root. `RLM_TEST_DATABASE_URL` points the tests at an existing server instead.
final class PostgresCluster: Sendable {
    let folder: String
    let port: Int
    let bin: String

    /// Why the PostgreSQL tests cannot run here, or nil when they can. In CI (`CI` set) a missing server is a failure.
    static let unavailableReason: String? = {
        if ProcessInfo.processInfo.environment["RLM_TEST_DATABASE_URL"] != nil { return nil }
        return binDirectory == nil ? "PostgreSQL server binaries (initdb, pg_ctl) are not installed; apt-get install postgresql" : nil
    }()

    static var runnable: Bool {
        unavailableReason == nil || ProcessInfo.processInfo.environment["CI"] != nil
    }

    static let binDirectory: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }.sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        return nil
    }()

    /// The one cluster of this test process, started on first use.
    static let shared: Result<PostgresCluster, ClusterError> = Result { () throws(ClusterError) in try PostgresCluster() }

    /// A fresh, empty database's URL (each test gets its own, so tests never see each other's rows).
    static func freshDatabase() throws -> Secret {
        if let url = ProcessInfo.processInfo.environment["RLM_TEST_DATABASE_URL"] {
            return Secret(url)
        }
        let cluster = try shared.get()
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try cluster.run("createdb", ["-h", cluster.folder, "-p", "\(cluster.port)", "-U", "rlm", name])
        return Secret("postgres://rlm@localhost:\(cluster.port)/\(name)?host=\(cluster.folder)&sslmode=disable")
    }

    private init() throws(ClusterError) {
        guard let bin = Self.binDirectory else { throw .notInstalled }
        self.bin = bin
        folder = "/tmp/rlm-pg-" + String(UUID().uuidString.prefix(8))
        port = 40_000 + Int.random(in: 0..<20_000)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if getuid() == 0 { try run("/bin/chown", ["postgres:postgres", folder], asPostgres: false) }
            try run("initdb", ["-D", "\(folder)/data", "-U", "rlm", "--auth=trust", "-E", "UTF8", "--no-sync"])
            try run("pg_ctl", ["-D", "\(folder)/data", "-l", "\(folder)/log", "-w", "-o",
                               "-k \(folder) -p \(port) -c listen_addresses='' -c fsync=off", "start"])
        } catch {
            throw .startFailed("\(error)")
        }
        PostgresClusterStop.register(bin: bin, folder: folder)
    }

    /// Runs a PostgreSQL program (as the `postgres` user when this process is root) through the shell and waits;
    /// throws with its output on failure. (`system`, not `Process`: the server pg_ctl starts outlives the call.)
    func run(_ program: String, _ arguments: [String], asPostgres: Bool = true) throws {
        let path = program.hasPrefix("/") ? program : "\(bin)/\(program)"
        let quoted = ([path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let prefix = asPostgres && getuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : ""
        let output = "\(folder).out"
        let status = "cd /tmp && \(prefix)\(quoted) </dev/null >\(output) 2>&1".withCString { system($0) }
        defer { try? FileManager.default.removeItem(atPath: output) }
        guard status == 0 else {
            let message = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw ClusterError.startFailed("\(program) exited \(status): \(message)")
        }
    }

    /// Why the cluster did not start.
    enum ClusterError: Error, CustomStringConvertible {
        case notInstalled
        case startFailed(String)

        var description: String {
            switch self {
            case .notInstalled: "PostgreSQL is not installed (apt-get install postgresql)"
            case let .startFailed(reason): "the throwaway PostgreSQL cluster did not start: \(reason)"
            }
        }
    }
}

/// Stops the cluster and removes its folder when the test process exits.
enum PostgresClusterStop {
    nonisolated(unsafe) private static var command: String = ""

    static func register(bin: String, folder: String) {
        let pgCtl = "\(bin)/pg_ctl -D \(folder)/data -m immediate stop"
        command = (getuid() == 0 ? "/usr/sbin/runuser -u postgres -- \(pgCtl)" : pgCtl) + " >/dev/null 2>&1; rm -rf \(folder)"
        atexit {
            _ = PostgresClusterStop.command.withCString { system($0) }
        }
    }
}
