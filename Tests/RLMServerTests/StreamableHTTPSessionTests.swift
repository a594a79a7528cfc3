import Foundation
import Logging
import RLMCommon
import Testing
@testable import RLMServer

/// The handshake-era streamable-HTTP session transport keeps bounded memory however many calls a session makes.
@Suite struct StreamableHTTPSessionTests {
    static let limits = ReplayLimits(events: 8, bytes: 4096, streams: 2)

    private func post(_ session: StreamableHTTPSession, _ body: String) async throws -> SessionHTTPResponse {
        let message = try JSONRPCMessage.parse(Data(body.utf8)).get()
        return await session.handle(SessionHTTPRequest(method: "POST", headers: ["Accept": "application/json, text/event-stream",
                                                                                 "Content-Type": "application/json", "MCP-Protocol-Version": "2025-06-18"],
                                                       message: message))
    }

    private func drain(_ response: SessionHTTPResponse) async throws -> String {
        guard case .stream(let body, _) = response else { Issue.record("expected an SSE stream, got \(response.statusCode)"); return "" }
        var text = ""
        for try await chunk in body { text += String(decoding: chunk, as: UTF8.self) }
        return text
    }

    @Test func answeredCallsLeaveNothingBehind() async throws {
        let session = StreamableHTTPSession(sessionID: "s", limits: Self.limits, logger: Logger(label: "test"))
        let output = String(repeating: "x", count: 2048)
        for id in 1...1000 {
            let response = try await post(session, #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"t"}}"#)
            await session.send(.response(id: .integer(Int64(id)), result: ["text": .string(output)]))
            let text = try await drain(response)
            #expect(text.contains(#""id":\#(id)"#) && text.contains("id: "))
        }
        #expect(await session.streamCount == 0)
        #expect(await session.bufferedBytes == 0)
        #expect(await session.openCalls == 0)
    }

    @Test func messagesForAnUnopenedGETStreamAreCapped() async throws {
        let session = StreamableHTTPSession(sessionID: "s", limits: Self.limits, logger: Logger(label: "test"))
        for step in 1...1000 {
            await session.send(.notification("notifications/tools/list_changed", ["n": .int(step)]))
        }
        #expect(await session.streamCount == 1)
        #expect(await session.bufferedBytes <= Self.limits.bytes)
    }

    @Test func aResponseSentWhileItsClientIsAwayIsReplayedAfterLastEventID() async throws {
        let session = StreamableHTTPSession(sessionID: "s", limits: Self.limits, logger: Logger(label: "test"))
        let first = try await post(session, #"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"t","_meta":{"progressToken":"p"}}}"#)
        guard case .stream(let body, _) = first else { Issue.record("expected a stream"); return }
        // The client reads the priming event, then its connection drops.
        let reader = Task { () -> String in
            var iterator = body.makeAsyncIterator()
            return String(decoding: try await iterator.next() ?? Data(), as: UTF8.self)
        }
        let priming = try await reader.value
        let eventID = try #require(priming.split(separator: "\n").first?.dropFirst("id: ".count))
        let stream = try #require(EventStream.parse(eventID: String(eventID)))
        await session.detachForTesting(stream.index)
        await session.send(ProgressOut.message(token: .string("p"), ProgressUpdate(progress: 1, total: nil, message: nil)))
        await session.send(.response(id: .string("a"), result: [:]))
        let resumed = await session.handle(SessionHTTPRequest(method: "GET", headers: ["Accept": "text/event-stream", "Last-Event-ID": String(eventID)], message: nil))
        let replay = try await drain(resumed)
        #expect(replay.contains(#""progress":1"#) && replay.contains(#""id":"a""#))
        #expect(await session.streamCount == 0)
        let again = await session.handle(SessionHTTPRequest(method: "GET", headers: ["Accept": "text/event-stream", "Last-Event-ID": String(eventID)], message: nil))
        #expect(again.statusCode == 400)
    }
}
