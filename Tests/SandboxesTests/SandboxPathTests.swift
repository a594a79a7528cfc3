import FakeServices
import Foundation
import Testing
@testable import Sandboxes

/// One containment rule for every backend, tried with the shared table of hostile paths.
@Suite struct SandboxPathTests {
    @Test(arguments: HostilePaths.all)
    func hostilePathsAreRefused(path: String) {
        #expect(throws: SandboxError.self) { try SandboxPath.relative(path, root: HostilePaths.root) }
    }

    @Test(arguments: zip(HostilePaths.contained.map(\.path), HostilePaths.contained.map(\.relative)))
    func containedPathsResolveLexically(path: String, relative: String) throws {
        #expect(try SandboxPath.relative(path, root: HostilePaths.root) == relative)
    }

    @Test func theLocalSandboxRefusesEveryHostilePath() async throws {
        let sandbox = try await LocalSandboxTests.factory.makeSandbox()
        defer { Task { await sandbox.shutdown() } }
        for path in HostilePaths.all {
            await #expect(throws: SandboxError.self, "\(path)") { _ = try await sandbox.uploadFile(path: path, data: Data("x".utf8)) }
            await #expect(throws: SandboxError.self, "\(path)") { _ = try await sandbox.downloadFile(path: path, maxBytes: 10) }
        }
    }
}
