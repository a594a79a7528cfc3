import Foundation
import RLMCommon
import RLMConfig
import Telemetry

/// Answers one request of either era from `MethodTable`: the one path every request of every transport goes through.
struct ProtocolDispatcher: Sendable {
    let runtime: ServerRuntime

    /// The response to `call`, with the HTTP status the streamable-HTTP binding gives it; nil when the request was
    /// cancelled (a cancelled request gets no response).
    func respond(_ call: MethodCall) async -> (message: OutgoingMessage, status: Int)? {
        let failure: RPCError
        do {
            guard let method = MethodTable.method(named: call.method, era: call.era) else {
                throw RPCError.methodNotFound(call.method, era: call.era)
            }
            var result = try await TelemetryHooks.request(await trace(of: call), failed: { (answer: JSONValue) in
                answer["isError"]?.boolValue == true
            }) { try await method.respond(to: call) }
            try Task.checkCancellation()
            if call.era == .modern { result = stamp(result) }
            guard method.answersAlwaysTheSame else { return (.response(id: call.id, result: result), 200) }
            return (call.runtime.encodedResults.response(id: call.id, key: "\(call.era) \(call.method)", result: result), 200)
        } catch is CancellationError {
            return nil
        } catch let error as RPCError {
            failure = error
        } catch {
            failure = .internalError("\(error)")
        }
        return (.response(id: call.id, error: failure), failure.httpStatus)
    }

    /// What the request's span is named after, and the caller's trace it continues (from `params._meta`).
    private func trace(of call: MethodCall) async -> MCPRequestTrace {
        let meta = call.params["_meta"]
        let requestID: String = switch call.id {
        case .string(let text): text
        case .integer(let number): String(number)
        }
        let version = switch call.era {
        case .modern: ModernProtocol.version
        case .handshake: await call.session?.protocolVersion
        }
        return MCPRequestTrace(
            method: call.method, target: call.method == "tools/call" ? call.params["name"]?.stringValue : nil,
            sessionID: call.session?.id, requestID: requestID,
            traceparent: meta?["traceparent"]?.stringValue, tracestate: meta?["tracestate"]?.stringValue,
            protocolVersion: version
        )
    }

    private static let serverInfo: JSONValue = ["name": "rlm-mcp", "title": "RLM MCP server", "version": .string(RLMVersion.current)]

    /// Every 2026-07-28 result says what it is and who answered.
    private func stamp(_ result: JSONValue) -> JSONValue {
        guard case .object(var fields) = result.withResultType() else { return result }
        var meta = fields["_meta"]?.objectValue ?? [:]
        meta[ModernProtocol.Meta.serverInfo] = Self.serverInfo
        fields["_meta"] = .object(meta)
        return .object(fields)
    }
}

extension JSONValue {
    /// This result object with `resultType: "complete"` unless it already says what it is.
    func withResultType(_ type: String = "complete") -> JSONValue {
        guard case .object(var fields) = self else { return self }
        if fields["resultType"] == nil { fields["resultType"] = .string(type) }
        return .object(fields)
    }
}
