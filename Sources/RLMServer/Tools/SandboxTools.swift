import Foundation
import RLMCommon
import Sandboxes

/// The six `sandbox_*` tools: direct use of the workspace's sandbox (Python REPLs, files, shell).
struct SandboxTools: ToolGroup {
    var tools: [ToolDefinition] { [Self.exec, Self.execStateful, Self.upload, Self.download, Self.files, Self.shell] }

    static let defaultTimeout = 120
    static let maxTimeout = 3600
    static let defaultDownloadLimit = 10 * 1024 * 1024

    // MARK: - Shared schema pieces

    private static let timeout: Schema = .integer(description: "Seconds before the code is stopped (default \(defaultTimeout))", minimum: 1, maximum: maxTimeout)
    private static let maxOutput: Schema = .integer(description: "Characters of stdout/stderr to return before truncating (default 20000)", minimum: 100, maximum: 1_000_000)

    private static let execOutput: [(String, Schema)] = [
        ("stdout", .string(description: "What the code printed (a final bare expression's value is printed too, as in a REPL)")),
        ("stderr", .string()),
        ("error", .nullable(.object(properties: [
            ("type", .string(description: "Exception class, or Timeout / OutputLimitExceeded")),
            ("message", .string()),
            ("traceback", .string()),
        ], required: ["type", "message", "traceback"]))),
        ("submitted", .nullable(.any(description: "The fields passed to SUBMIT(...), when the code called it"))),
        ("duration_ms", .number(minimum: 0)),
        ("truncated", .boolean(description: "True when output was cut at max_output_chars")),
    ]
    private static let execRequired = ["stdout", "stderr", "error", "submitted", "duration_ms", "truncated"]

    // MARK: - Tools

    static let exec = ToolDefinition(
        name: "sandbox_exec",
        title: "Run Python in a fresh namespace",
        description: "Run Python code in the workspace's sandbox, in a fresh namespace that is discarded afterwards (use "
            + "sandbox_exec_stateful to keep variables). `variables` become Python variables first. Files written to the working "
            + "directory stay for later calls. No network access. Returns stdout, stderr and any error with its traceback.",
        input: .object(properties: [
            ("code", .string(description: "Python source to run", minLength: 1)),
            ("variables", .object(properties: [], description: "JSON values to define as variables before the code runs", closed: false)),
            ("timeout_s", timeout),
            ("max_output_chars", maxOutput),
        ], required: ["code"]),
        output: .object(properties: execOutput, required: execRequired),
        annotations: .init(title: "Run Python (fresh namespace)", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false),
        usesWorkspace: true
    ) { arguments, context in
        let result = try await run(arguments, namespace: .fresh, context: context)
        return output(result)
    }

    static let execStateful = ToolDefinition(
        name: "sandbox_exec_stateful",
        title: "Run Python in a persistent REPL",
        description: "Run Python code in a named REPL of the workspace's sandbox whose variables, imports and functions persist "
            + "between calls (like a notebook kernel). `session` names the REPL (default \"default\"); `reset: true` starts it "
            + "afresh before running. A timeout loses that REPL's variables.",
        input: .object(properties: [
            ("code", .string(description: "Python source to run", minLength: 1)),
            ("session", .string(description: "Name of the REPL within the workspace (default \"default\")", minLength: 1)),
            ("reset", .boolean(description: "Discard the REPL's variables before running")),
            ("timeout_s", timeout),
            ("max_output_chars", maxOutput),
        ], required: ["code"]),
        output: .object(properties: execOutput + [("session", .string())], required: execRequired + ["session"]),
        annotations: .init(title: "Run Python (persistent REPL)", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false),
        usesWorkspace: true
    ) { arguments, context in
        let name = arguments.string("session") ?? "default"
        guard name.count <= 100, name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) else {
            throw ToolError("argument \"session\" may contain only letters, digits, _ - and . (at most 100 characters)")
        }
        if arguments.bool("reset") == true { await (try await context.workspace.sandbox()).resetNamespace(name) }
        let result = try await run(arguments, namespace: .named(name), context: context)
        var out = output(result)
        if case var .object(fields) = out.structured {
            fields["session"] = .string(name)
            out = ToolOutput(text: out.text, structured: .object(fields))
        }
        return out
    }

    static let upload = ToolDefinition(
        name: "sandbox_upload",
        title: "Write a file into the sandbox",
        description: "Write a file in the sandbox's working directory, creating parent directories. Give `content` for text or "
            + "`content_base64` for binary data (exactly one). Paths are relative to the working directory.",
        input: .object(properties: [
            ("path", .string(description: "File path relative to the sandbox working directory", minLength: 1)),
            ("content", .string(description: "Text content (UTF-8)")),
            ("content_base64", .string(description: "Binary content, base64-encoded")),
        ], required: ["path"]),
        output: .object(properties: [("path", .string()), ("size", .integer(minimum: 0))], required: ["path", "size"]),
        annotations: .init(title: "Write a sandbox file", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false),
        usesWorkspace: true
    ) { arguments, context in
        let path = arguments.string("path")!
        let data: Data
        switch (arguments.string("content"), arguments.string("content_base64")) {
        case let (text?, nil):
            data = Data(text.utf8)
        case let (nil, encoded?):
            guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw ToolError("argument \"content_base64\" is not valid base64")
            }
            data = decoded
        case (nil, nil):
            throw ToolError("give the file's data as \"content\" (text) or \"content_base64\" (binary)")
        case (_?, _?):
            throw ToolError("give either \"content\" or \"content_base64\", not both")
        }
        let size = try await sandboxCall { try await context.workspace.sandbox().uploadFile(path: path, data: data) }
        return ToolOutput(text: "wrote \(size) bytes to \(path)", structured: ["path": .string(path), "size": .int(size)])
    }

    static let download = ToolDefinition(
        name: "sandbox_download",
        title: "Read a file from the sandbox",
        description: "Read a file from the sandbox's working directory, as text (UTF-8, the default) or base64 for binary data. "
            + "Files over 10 MB are refused; process them in the sandbox instead.",
        input: .object(properties: [
            ("path", .string(description: "File path relative to the sandbox working directory", minLength: 1)),
            ("encoding", .string(description: "text (default) or base64", oneOf: ["text", "base64"])),
        ], required: ["path"]),
        output: .object(properties: [
            ("path", .string()), ("content", .string()), ("size", .integer(minimum: 0)), ("encoding", .string(oneOf: ["text", "base64"])),
        ], required: ["path", "content", "size", "encoding"]),
        annotations: .init(title: "Read a sandbox file", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false),
        usesWorkspace: true
    ) { arguments, context in
        let path = arguments.string("path")!
        let encoding = arguments.string("encoding") ?? "text"
        let data = try await sandboxCall { try await context.workspace.sandbox().downloadFile(path: path, maxBytes: defaultDownloadLimit) }
        let content: String
        if encoding == "base64" {
            content = data.base64EncodedString()
        } else {
            guard let text = String(data: data, encoding: .utf8) else {
                throw ToolError("\(path) is not UTF-8 text; download it with encoding \"base64\"")
            }
            content = text
        }
        return ToolOutput(text: encoding == "text" ? content : "\(path): \(data.count) bytes, base64-encoded in structuredContent.content",
                          structured: ["path": .string(path), "content": .string(content), "size": .int(data.count), "encoding": .string(encoding)])
    }

    static let files = ToolDefinition(
        name: "sandbox_files",
        title: "List sandbox files",
        description: "List files and directories in the sandbox's working directory (or a subdirectory), optionally recursively. "
            + "Symbolic links are listed, never followed.",
        input: .object(properties: [
            ("path", .string(description: "Directory relative to the working directory (default: the working directory)")),
            ("recursive", .boolean(description: "Include subdirectories' contents")),
        ]),
        output: .object(properties: [
            ("path", .string()),
            ("entries", .array(of: .object(properties: [
                ("name", .string()), ("path", .string()), ("is_dir", .boolean()), ("size", .integer(minimum: 0)),
                ("modified", .number(description: "Seconds since 1970")),
            ], required: ["name", "path", "is_dir", "size", "modified"]))),
        ], required: ["path", "entries"]),
        annotations: .init(title: "List sandbox files", readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false),
        usesWorkspace: true
    ) { arguments, context in
        let path = arguments.string("path") ?? "."
        let entries = try await sandboxCall { try await context.workspace.sandbox().listFiles(path: path, recursive: arguments.bool("recursive") ?? false) }
        let text = entries.isEmpty ? "(empty)" : entries.map { $0.isDirectory ? "\($0.path)/" : "\($0.path)  \($0.size) bytes" }.joined(separator: "\n")
        return ToolOutput(text: text, structured: [
            "path": .string(path),
            "entries": .array(entries.map {
                ["name": .string($0.name), "path": .string($0.path), "is_dir": .bool($0.isDirectory), "size": .int($0.size), "modified": .double($0.modified)]
            }),
        ])
    }

    static let shell = ToolDefinition(
        name: "sandbox_shell",
        title: "Run a shell command in the sandbox",
        description: "Run a command with `bash -lc` in the sandbox, under the same isolation and limits as Python code (no network). "
            + "`cwd` is relative to the working directory. Returns stdout, stderr and the exit code.",
        input: .object(properties: [
            ("command", .string(description: "The bash command line", minLength: 1)),
            ("cwd", .string(description: "Directory to run in, relative to the working directory")),
            ("timeout_s", .integer(description: "Seconds before the command is killed (default \(defaultTimeout))", minimum: 1, maximum: maxTimeout)),
        ], required: ["command"]),
        output: .object(properties: [
            ("stdout", .string()), ("stderr", .string()), ("exit_code", .integer()), ("duration_ms", .number(minimum: 0)),
            ("timed_out", .boolean()), ("truncated", .boolean()),
        ], required: ["stdout", "stderr", "exit_code", "duration_ms", "timed_out", "truncated"]),
        annotations: .init(title: "Run a sandbox shell command", readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false),
        usesWorkspace: true
    ) { arguments, context in
        let timeout = Duration.seconds(arguments.int("timeout_s") ?? defaultTimeout)
        let result = try await sandboxCall {
            try await context.workspace.sandbox().shell(command: arguments.string("command")!, cwd: arguments.string("cwd"), timeout: timeout)
        }
        var text = readable(stdout: result.stdout, stderr: result.stderr)
        text.appendSection("exit code \(result.exitCode)")
        return ToolOutput(text: text, structured: [
            "stdout": .string(result.stdout), "stderr": .string(result.stderr), "exit_code": .int(Int(result.exitCode)),
            "duration_ms": .double(result.durationMS), "timed_out": .bool(result.timedOut), "truncated": .bool(result.truncated),
        ])
    }

    // MARK: - Helpers

    private static func run(_ arguments: ToolArguments, namespace: ExecRequest.Namespace, context: ToolContext) async throws -> ExecResult {
        let request = ExecRequest(
            code: arguments.string("code")!,
            namespace: namespace,
            variables: arguments.values["variables"]?.objectValue,
            timeout: .seconds(arguments.int("timeout_s") ?? defaultTimeout),
            maxOutputChars: arguments.int("max_output_chars") ?? 20_000
        )
        return try await sandboxCall { try await context.workspace.sandbox().execute(request) }
    }

    /// Turns sandbox failures into tool errors the caller can act on; cancellation passes through.
    private static func sandboxCall<T>(_ operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch let error as SandboxError {
            throw ToolError(error.description)
        }
    }

    /// What a person reads of a run's output: stdout, then stderr under a heading when there is any.
    private static func readable(stdout: String, stderr: String) -> String {
        var text = stdout
        if !stderr.isEmpty { text.appendSection("stderr:\n" + stderr) }
        return text
    }

    private static func output(_ result: ExecResult) -> ToolOutput {
        var structured: [String: JSONValue] = [
            "stdout": .string(result.stdout),
            "stderr": .string(result.stderr),
            "duration_ms": .double(result.durationMS),
            "truncated": .bool(result.truncated),
            "error": .null,
            "submitted": .null,
        ]
        var text = readable(stdout: result.stdout, stderr: result.stderr)
        if let error = result.error {
            structured["error"] = ["type": .string(error.type), "message": .string(error.message), "traceback": .string(error.traceback)]
            text.appendSection(error.traceback.isEmpty ? "\(error.type): \(error.message)" : error.traceback)
        }
        if let submitted = result.submitted.map(JSONValue.object) {
            structured["submitted"] = submitted
            text.appendSection("SUBMIT: " + submitted.compactText)
        }
        return ToolOutput(text: text.isEmpty ? "(no output)" : text, structured: .object(structured))
    }
}

private extension String {
    /// Appends a block of the readable result, on a line of its own.
    mutating func appendSection(_ section: String) {
        self += (isEmpty ? "" : "\n") + section
    }
}
