import Foundation
import RLMCommon

/// A frame the worker sent (an `ev` line of the worker protocol, DESIGN.md section 2), decoded once into the value
/// the host acts on; `exited` is added by the transport when the worker is gone.
package enum WorkerFrame: Sendable, Equatable {
    /// The worker started and waits for operations.
    case ready
    /// The answer to an `exec` operation.
    case result(id: String?, ExecResult)
    /// The answer to a `load_context` operation: what was loaded, or the Python error that stopped it.
    case loaded(id: String?, Result<LoadedVariable, ExecResult.Failure>)
    /// Running code asks the host for a sub-call; nil when the request is malformed (the code gets an error reply).
    case request(id: String?, SubCall?)
    /// The worker is gone; always the last frame of a transport's stream.
    case exited(WorkerExit)
    /// `protocol_error` and events this host does not know: diagnostics only.
    case diagnostic

    /// Decodes one line of JSON; nil for anything that is not a frame (no `ev` member, not JSON), which is ignored.
    package init?(json: Data) {
        guard let frame = try? JSONDecoder().decode(WorkerFrame.self, from: json) else { return nil }
        self = frame
    }
}

extension WorkerFrame: Decodable {
    private enum Key: String, CodingKey {
        case ev, id, kind, prompt, prompts, model, task, context
        case stdout, stderr, error, submitted, truncated, durationMS = "duration_ms"
        case type, length
    }

    package init(from decoder: any Decoder) throws {
        let frame = try decoder.container(keyedBy: Key.self)
        let id = try? frame.decodeIfPresent(String.self, forKey: .id)
        switch try frame.decode(String.self, forKey: .ev) {
        case "ready":
            self = .ready
        case "result":
            self = .result(id: id, ExecResult(
                stdout: try frame.decodeIfPresent(String.self, forKey: .stdout) ?? "",
                stderr: try frame.decodeIfPresent(String.self, forKey: .stderr) ?? "",
                error: try frame.decodeIfPresent(ExecResult.Failure.self, forKey: .error),
                submitted: try frame.decodeIfPresent([String: JSONValue].self, forKey: .submitted),
                truncated: try frame.decodeIfPresent(Bool.self, forKey: .truncated) ?? false,
                durationMS: try frame.decodeIfPresent(Double.self, forKey: .durationMS) ?? 0
            ))
        case "loaded":
            if let failure = try frame.decodeIfPresent(ExecResult.Failure.self, forKey: .error) {
                self = .loaded(id: id, .failure(failure))
            } else {
                self = .loaded(id: id, .success(LoadedVariable(type: try frame.decodeIfPresent(String.self, forKey: .type) ?? "?",
                                                               length: try frame.decodeIfPresent(Int.self, forKey: .length) ?? 0)))
            }
        case "request":
            // Fields of the wrong type make the request malformed, not the frame unreadable: the code still gets a reply.
            let model = try? frame.decodeIfPresent(String.self, forKey: .model)
            let call: SubCall? = switch try? frame.decodeIfPresent(String.self, forKey: .kind) {
            case "llm_query": (try? frame.decode(String.self, forKey: .prompt)).map { .llmQuery(prompt: $0, model: model) }
            case "llm_query_batched": (try? frame.decode([String].self, forKey: .prompts)).map { .llmQueryBatched(prompts: $0, model: model) }
            case "rlm_query": (try? frame.decode(String.self, forKey: .task)).map {
                .rlmQuery(task: $0, context: try? frame.decodeIfPresent(String.self, forKey: .context))
            }
            default: nil
            }
            self = .request(id: id, call)
        default:
            self = .diagnostic
        }
    }
}

extension ExecResult.Failure: Decodable {
    private enum Key: String, CodingKey { case type, message, traceback }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: Key.self)
        self.init(type: try fields.decodeIfPresent(String.self, forKey: .type) ?? "Error",
                  message: try fields.decodeIfPresent(String.self, forKey: .message) ?? "",
                  traceback: try fields.decodeIfPresent(String.self, forKey: .traceback) ?? "")
    }
}

extension ExecResult.Failure: Error {}
