import Foundation
@testable import History
import RLMConfig
import Testing

/// A PostgreSQL that cannot be reached fails the open within the connect timeout, with a reason, instead of after the
/// connection pool's minute of retries. No server is needed: a loopback listener that never answers stands in.
@Suite struct PostgresUnreachableTests {
    func open(port: Int) async throws -> PostgresRunStore {
        let url = Secret("postgres://rlm@127.0.0.1:\(port)/rlm?sslmode=disable")
        return try await PostgresRunStore.open(settings: HistorySettings(directory: "/nonexistent", databaseURL: url))
    }

    @Test func aServerThatAcceptsAndNeverSpeaksFailsTheOpenWithinTheConnectTimeout() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let started = ContinuousClock.now
        await #expect {
            try await open(port: listener.port)
        } throws: { error in
            guard case let HistoryError.database(server, reason) = error else { return false }
            return server == "127.0.0.1:\(listener.port)/rlm" && reason.contains("no connection within 10 s")
        }
        // The pool alone gave up after about 70 s; the bound is 10 s, and 30 leaves room for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aPortNobodyListensOnFailsTheOpenAtOnceWithTheReason() async throws {
        let listener = try SilentListener()
        let port = listener.port
        listener.close()
        let started = ContinuousClock.now
        await #expect {
            try await open(port: port)
        } throws: { error in
            guard case let HistoryError.database(_, reason) = error else { return false }
            return reason.hasPrefix("cannot connect")
        }
        #expect(ContinuousClock.now - started < .seconds(30))
    }
}

/// A TCP listener on a loopback port that never accepts: the kernel completes the handshake into the backlog, so a
/// client connects and then waits forever for a first byte.
final class SilentListener: Sendable {
    let port: Int
    private let socket: Int32

    init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ListenerError.failed("socket", errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(fd)
            throw ListenerError.failed("bind/listen", errno)
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { Glibc.close(socket) }

    /// Why the listener could not be set up.
    enum ListenerError: Error {
        case failed(String, Int32)
    }
}
