import Foundation
import RLMCommon
import Testing
@testable import Sandboxes

/// The worker protocol's frames, decoded and encoded as typed values.
@Suite struct WorkerFrameTests {
    private func frame(_ json: String) -> WorkerFrame? { WorkerFrame(json: Data(json.utf8)) }

    @Test func aResultFrameBecomesAnExecResultWithItsSubmissionAsJSONValues() {
        let decoded = frame(#"{"ev":"result","id":"e1","stdout":"hi\n","stderr":"","error":null,"submitted":{"answer":[1,"a"]},"truncated":false,"duration_ms":2.5}"#)
        #expect(decoded == .result(id: "e1", ExecResult(stdout: "hi\n", stderr: "", error: nil, submitted: ["answer": .array([.int(1), .string("a")])],
                                                        truncated: false, durationMS: 2.5)))
    }

    @Test func aRequestWithFieldsOfTheWrongTypeIsMalformedButStillAnswerable() {
        #expect(frame(#"{"ev":"request","id":"q1","kind":"llm_query","prompt":"p","model":7}"#) == .request(id: "q1", .llmQuery(prompt: "p", model: nil)))
        #expect(frame(#"{"ev":"request","id":"q2","kind":"llm_query","prompt":3}"#) == .request(id: "q2", nil))
    }

    @Test func linesThatAreNotFramesAreIgnored() {
        #expect(frame(#"{"op":"exec"}"#) == nil)
        #expect(frame("banner text") == nil)
        #expect(frame(#"{"ev":"protocol_error","message":"x"}"#) == .diagnostic)
    }

    @Test func aLoadErrorKeepsItsPythonType() {
        let decoded = frame(#"{"ev":"loaded","id":"e2","error":{"type":"FileNotFoundError","message":"no"}}"#)
        #expect(decoded == .loaded(id: "e2", .failure(ExecResult.Failure(type: "FileNotFoundError", message: "no", traceback: ""))))
    }

    @Test func hostFramesCarryTheProtocolsFieldNames() throws {
        let exec = try #require(HostFrame.exec(id: "e1", code: "x", variables: ["n": .int(1)], maxOutputChars: 10, timeoutSeconds: 5).line)
        #expect(JSONValue.parse(exec) == .object(["op": .string("exec"), "id": .string("e1"), "code": .string("x"),
                                                  "variables": .object(["n": .int(1)]), "max_output_chars": .int(10), "timeout_s": .int(5)]))
        let reply = try #require(HostFrame.reply(id: "q1", .texts(["a"])).line)
        #expect(JSONValue.parse(reply) == .object(["op": .string("reply"), "id": .string("q1"), "results": .array([.string("a")])]))
    }

    @Test func howAWorkerEndedDecidesTheFailure() {
        #expect(WorkerFailure(WorkerExit(.killedBySignal, "signal 9 (SIGKILL)")) == .outOfMemory(reason: "signal 9 (SIGKILL)"))
        #expect(WorkerFailure(WorkerExit(.neverReceivedAFrame, "gone")) == .goneBeforeFirstFrame(reason: "gone"))
        #expect(WorkerFailure(WorkerExit(.exited, "exit code 1")) == .died(reason: "exit code 1"))
        #expect(ExecResult.lost(.timedOut(limit: .seconds(3)), durationMS: 1).error?.type == "Timeout")
    }
}
