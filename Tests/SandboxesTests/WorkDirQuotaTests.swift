import Foundation
import Testing
@testable import Sandboxes

#if canImport(Glibc)
import Glibc
#endif

/// `RLM_SANDBOX_DISK_MB`: a server that may mount (root) gives each sandbox a `/work` of that size.
@Suite(.serialized, .enabled(if: geteuid() == 0, "mounting a sized /work needs root"))
struct WorkDirQuotaTests {
    static let factory: LocalSandboxFactory = {
        var limits = LocalSandbox.Limits(memoryMB: 1024)
        limits.diskMB = 2
        return LocalSandboxFactory(settings: .init(python: nil, isolation: nil, allowUnsafe: false, limits: limits), cacheFile: nil)
    }()

    private func mounted(_ sandbox: LocalSandbox) -> Bool {
        ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains("/\(sandbox.id) ")
    }

    @Test func anUploadPastTheQuotaSaysTheQuotaIsFull() async throws {
        let sandbox = try await Self.factory.makeSandbox()
        #expect(mounted(sandbox))
        let small = try await sandbox.uploadFile(path: "small.bin", data: Data(count: 512 * 1024))
        var refusal: String?
        do {
            _ = try await sandbox.uploadFile(path: "big.bin", data: Data(count: 3 * 1024 * 1024))
        } catch {
            refusal = String(describing: error)
        }
        await sandbox.shutdown()
        #expect(small == 512 * 1024)
        #expect(refusal?.contains("disk quota is full (RLM_SANDBOX_DISK_MB)") == true, "a 3 MB upload into a 2 MB work dir: \(refusal ?? "accepted")")
    }

    @Test func codeThatFillsTheWorkDirGetsNoSpaceLeft() async throws {
        let sandbox = try await Self.factory.makeSandbox()
        let result = try await sandbox.execute(ExecRequest(
            code: "with open('fill.bin', 'wb') as f:\n    for _ in range(3):\n        f.write(b'x' * 1048576)",
            namespace: .fresh, variables: nil, timeout: .seconds(20), maxOutputChars: 20_000, onSubCall: SubCall.unavailable))
        await sandbox.shutdown()
        // No single file reaches 2 MB either (the per-file cap follows the quota), so either error is the quota's.
        let message = result.error?.message ?? ""
        #expect(message.contains("No space left on device") || message.contains("File too large"), "\(result)")
        #expect(!mounted(sandbox), "shutdown leaves the work dir's mount behind")
    }
}
