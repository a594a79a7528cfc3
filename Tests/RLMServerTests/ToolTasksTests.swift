import Foundation
import History
import RLMCommon
import Testing
@testable import RLMServer

/// Two `ToolTasks` over one task store behave as two replicas over one database.
@Suite struct ToolTasksTests {
    @Test func aTaskStartedOnOneReplicaIsReadAndCancelledOnAnotherWhichStopsTheWork() async throws {
        let store = InMemoryTaskStateStore()
        let replicaA = ToolTasks(store: store), replicaB = ToolTasks(store: store)
        let (ended, report) = AsyncStream.makeStream(of: String.self)
        let created = try await replicaA.start(owner: "owner#1") { _ in
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                report.yield("cancelled")
                throw error
            }
            report.yield("ran to the end")
            return ToolResult(texts: ["late"])
        }
        let id = try #require(created["taskId"]?.stringValue)
        #expect(try await replicaB.get(id, owner: "owner#1")["status"]?.stringValue == "working")
        await #expect(throws: RPCError.self) { try await replicaB.get(id, owner: "owner#2") }
        try await replicaB.cancel(id, owner: "owner#1")
        // B holds no handle on A's work: only the cancel flag in the shared store can have stopped it.
        var outcomes = ended.makeAsyncIterator()
        #expect(await outcomes.next() == "cancelled")
        #expect(try await replicaA.get(id, owner: "owner#1")["status"]?.stringValue == "cancelled")
    }

    @Test func aFinishedTaskIsReadWithItsResultAndProgressOnAnotherReplica() async throws {
        let store = InMemoryTaskStateStore()
        let replicaA = ToolTasks(store: store), replicaB = ToolTasks(store: store)
        let (proceed, release) = AsyncStream.makeStream(of: Void.self)
        let created = try await replicaA.start(owner: "") { progress in
            await progress.report(1, total: 2, message: "halfway")
            for await _ in proceed { break }
            return ToolResult(texts: ["done"], structuredContent: ["answer": 42])
        }
        let id = try #require(created["taskId"]?.stringValue)
        var task = try await replicaB.get(id, owner: "")
        while task["statusMessage"]?.stringValue != "halfway" {
            try await Task.sleep(for: .milliseconds(10))
            task = try await replicaB.get(id, owner: "")
        }
        release.yield()
        while task["status"]?.stringValue == "working" {
            try await Task.sleep(for: .milliseconds(10))
            task = try await replicaB.get(id, owner: "")
        }
        #expect(task["status"]?.stringValue == "completed")
        #expect(task["result"]?["structuredContent"]?["answer"] == 42)
        #expect(task["result"]?["resultType"]?.stringValue == "complete")
    }
}
