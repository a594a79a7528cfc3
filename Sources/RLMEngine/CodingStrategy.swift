import RLMCommon
import Foundation
import Sandboxes

/// `rlm_code`: the root model writes code to a specification; the host runs the tests against exactly the code
/// submitted and hands failures back until they pass or the run's budgets end it.
public struct CodeTask: Sendable {
    public var specification: String
    /// Python test code: top-level asserts, `test_*` functions or `unittest.TestCase` classes. nil: the code only has to run.
    public var tests: String?
    public var models: RunModels
    public var limits: RunLimits
    public var origin: RunOrigin

    public init(specification: String, tests: String?, models: RunModels, limits: RunLimits, origin: RunOrigin = .init(tool: "rlm_code")) {
        self.origin = origin
        self.specification = specification
        self.tests = tests
        self.models = models
        self.limits = limits
    }
}

public struct CodeResult: Sendable, Encodable {
    public var run: RunResult
    public var code: String?
    public var passed: Bool
    public var testOutput: String
    /// Where the accepted code was written in the sandbox.
    public var path: String?
}

extension RLMEngine {
    public func writeCode(_ task: CodeTask, sandbox: @escaping SandboxSource, progress: Progress? = nil) async throws -> CodeResult {
        let folder = "rlm_code/\(RunIDs.make().dropFirst(4))"
        let solutionPath = "\(folder)/solution.py", testsPath = task.tests.map { _ in "\(folder)/test_solution.py" }
        let attempts = CodeAttempts()
        let source: SandboxSource = {
            let box = try await sandbox()
            if let tests = task.tests, let testsPath { _ = try await box.uploadFile(path: testsPath, data: Data(tests.utf8)) }
            return box
        }
        var request = RunRequest(
            task: task.specification, models: task.models, limits: task.limits,
            instructions: prompts.codingInstructions(solutionPath: solutionPath, testsPath: testsPath), origin: task.origin
        )
        if let tests = task.tests { request.variables["tests"] = .string(tests) }
        let limits = task.limits
        let run = try await self.run(request, sandbox: source, check: { fields, box in
            guard case let .string(code)? = fields["code"] else {
                return .reject(feedback: "SUBMIT needs the source as a str: SUBMIT(code=open('\(solutionPath)').read())")
            }
            let outcome = try await TestHarness.run(code: code, tests: task.tests, in: box, timeout: limits.execTimeout)
            await attempts.record(code: code, outcome: outcome)
            guard outcome.passed else {
                return .reject(feedback: "The tests failed against the code you submitted:\n```\n\(outcome.output)\n```\nFix the code and SUBMIT again.")
            }
            _ = try? await box.uploadFile(path: solutionPath, data: Data(code.utf8))
            return .accept(fields: ["passed": .bool(true), "test_output": .string(outcome.output)])
        }, progress: progress)
        let last = await attempts.last
        let accepted = run.status == .submitted
        return CodeResult(
            run: run, code: last?.code, passed: accepted && (last?.outcome.passed ?? false),
            testOutput: last?.outcome.output ?? "the code was never submitted, so no tests ran",
            path: accepted ? solutionPath : nil
        )
    }
}

/// The last code submitted and how its tests went.
actor CodeAttempts {
    struct Attempt: Sendable {
        let code: String
        let outcome: TestOutcome
    }

    private(set) var last: Attempt?
    func record(code: String, outcome: TestOutcome) { last = Attempt(code: code, outcome: outcome) }
}

struct TestOutcome: Sendable {
    var passed: Bool
    var output: String
}

/// Runs a solution and its tests in a fresh namespace of the sandbox, never in the run's own namespace, so that the
/// model's variables cannot make failing tests pass.
enum TestHarness {
    static func run(code: String, tests: String?, in sandbox: any Sandbox, timeout: Duration) async throws -> TestOutcome {
        var variables: [String: JSONValue] = ["_rlm_solution": .string(code)]
        if let tests { variables["_rlm_tests"] = .string(tests) }
        let result = try await sandbox.execute(ExecRequest(
            code: script, namespace: .fresh, variables: variables, timeout: timeout, maxOutputChars: 8000
        ))
        var output = [result.stdout, result.stderr].filter { !$0.isEmpty }.joined(separator: "\n")
        if let error = result.error { output += (output.isEmpty ? "" : "\n") + Observation.describe(error) }
        if tests == nil && result.error == nil { output = "No tests were given; the code ran without error.\n" + output }
        return TestOutcome(passed: result.error == nil, output: output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The harness script (`Resources/rlm_code_harness.py`): imports the solution as module `solution`, then runs the
    /// tests with its names in scope.
    static let script: String = {
        guard let url = Bundle.module.url(forResource: "rlm_code_harness", withExtension: "py"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            // The resource is part of the build; a missing one is a packaging bug, not a runtime condition.
            fatalError("rlm-mcp was built without its resource rlm_code_harness.py")
        }
        return text
    }()
}
