import Foundation
import Testing
@testable import Sandboxes

/// Roots of killed servers are cleaned up; roots of running servers, whoever started them, are not.
@Suite struct WorkRootTests {
    private func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rlm-roots-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func onlyRootsWhoseOwnerIsGoneAreRemoved() throws {
        let temporary = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        // Ours, locked by this process.
        let mine = try WorkRoot.create(in: temporary)
        // A killed server's: its lock file is there but nobody holds it.
        let abandoned = temporary + "/rlm-mcp-999999-dead"
        try FileManager.default.createDirectory(atPath: abandoned + "/s1-x", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: abandoned + "/owner.lock", contents: Data("999999\n".utf8))
        // Another live server's: a separate process holds its lock.
        let other = temporary + "/rlm-mcp-1-alive"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: other + "/owner.lock", contents: Data())
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = [other + "/owner.lock", "sleep", "30"]
        try holder.run()
        defer { holder.terminate() }
        // Wait until the holder has the lock (bounded).
        for _ in 0..<100 {
            let fd = open(other + "/owner.lock", O_RDWR)
            let free = flock(fd, LOCK_EX | LOCK_NB) == 0
            if free { flock(fd, LOCK_UN) }
            close(fd)
            if !free { break }
            usleep(20_000)
        }
        // Not ours and not rlm-mcp's: never touched.
        try FileManager.default.createDirectory(atPath: temporary + "/something-else", withIntermediateDirectories: true)

        let removed = WorkRoot.removeAbandoned(in: temporary)

        #expect(removed == [abandoned])
        #expect(FileManager.default.fileExists(atPath: mine.path))
        #expect(FileManager.default.fileExists(atPath: other))
        #expect(FileManager.default.fileExists(atPath: temporary + "/something-else"))
        mine.remove()
        #expect(!FileManager.default.fileExists(atPath: mine.path))
    }
}
