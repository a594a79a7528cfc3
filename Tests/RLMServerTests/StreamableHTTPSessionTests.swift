import Foundation
import JSONRPCWire
import Logging
import RLMCommon
import RLMConfig
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
            let response = try await post(session, #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"t","_meta":{"progressToken":\#(id)}}}"#)
            await session.send(.response(id: .integer(Int64(id)), result: ["text": .string(output)]))
            let text = try await drain(response)
            #expect(text.contains(#""id":\#(id)"#) && text.contains("id: "))
        }
        #expect(await session.streamCount == 0)
        #expect(await session.bufferedBytes == 0)
        #expect(await session.openCalls == 0)
    }

    /// A session transport bound to a real connection, as `StreamableHTTPSessions` opens one.
    private func connectedSession(_ values: [String: String] = [:]) async throws -> (StreamableHTTPSession, Connection) {
        let config = try RLMConfig(variables: LayeredVariables(layers: [.init(name: "test", values: values)]))
        let runtime = ServerRuntime(config: config, logger: Logger(label: "test"))
        let session = StreamableHTTPSession(sessionID: "s", limits: Self.limits, logger: Logger(label: "test"))
        let connection = await Connection.open(runtime: runtime, id: "s") { await session.send($0) }
        await session.bind(connection)
        return (session, connection)
    }

    @Test func aRequestThatAsksForNoProgressIsAnsweredAsJSON() async throws {
        let (session, connection) = try await connectedSession()
        let response = try await post(session, #"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"rlm_status","arguments":{}}}"#)
        guard case .complete(200, let headers, let body?) = response else { Issue.record("expected a JSON body, got \(response)"); return }
        #expect(headers["Content-Type"] == "application/json" && headers["Mcp-Session-Id"] == "s")
        let reply = try #require(JSONValueParser.parse(body))
        #expect(reply["id"] == 7 && reply["result"]?["isError"] == false)
        #expect(await session.streamCount == 0)
        #expect(await session.openCalls == 0)
        #expect(await connection.requestsInFlight == 0)
        await connection.close()
    }

    @Test func aJSONAnsweredCallIsStoppedByNotificationsCancelled() async throws {
        let (session, connection) = try await connectedSession(["RLM_DIAGNOSTIC_TOOLS": "1"])
        // 1,000 steps of 50 ms: only the cancellation ends this call within the test's lifetime.
        let call = Task {
            try await post(session, #"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"diagnostic_progress","arguments":{"steps":1000,"interval_ms":50}}}"#)
        }
        while await connection.requestsInFlight == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let cancelled = try await post(session, #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":8}}"#)
        #expect(cancelled.statusCode == 202)
        let response = try await call.value
        // A cancelled request gets no response: the POST ends with 202 and no body.
        guard case .complete(202, _, nil) = response else { Issue.record("expected 202 without a body, got \(response)"); return }
        #expect(await connection.requestsInFlight == 0)
        await connection.close()
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
