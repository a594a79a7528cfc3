/// Tools that exist to prove the server's plumbing end to end (progress, cancellation); registered only with
/// `RLM_DIAGNOSTIC_TOOLS=1`, which the interop tests set, so ordinary clients never see them.
struct DiagnosticTools: ToolGroup {
    var tools: [ToolDefinition] { [progressTicker] }

    private var progressTicker: ToolDefinition {
        ToolDefinition(
            name: "diagnostic_progress",
            title: "Progress and cancellation self-test",
            description: "Counts to `steps`, sleeping `interval_ms` between steps and sending a progress notification per step "
                + "when the call carries a progressToken. Cancelling the call stops it at once.",
            input: .object(properties: [
                ("steps", .integer(description: "How many steps to count", minimum: 1, maximum: 1000)),
                ("interval_ms", .integer(description: "Pause between steps in milliseconds", minimum: 0, maximum: 60_000)),
            ]),
            output: .object(properties: [
                ("steps_completed", .integer(minimum: 0)),
                ("progress_requested", .boolean()),
            ], required: ["steps_completed", "progress_requested"]),
            annotations: .init(readOnlyHint: true, openWorldHint: false),
            // Lets the tests prove the Tasks extension end to end, as the long rlm_* runs use it.
            longRunning: true
        ) { arguments, context in
            let steps = arguments.int("steps") ?? 5
            let interval = arguments.int("interval_ms") ?? 50
            await context.log(.info, "diagnostic_progress: counting to \(steps)")
            for step in 1...steps {
                try await Task.sleep(for: .milliseconds(interval))
                await context.progress.report(Double(step), total: Double(steps), message: "step \(step)/\(steps)")
                await context.log(.debug, "diagnostic_progress: step \(step)/\(steps)")
            }
            return ToolOutput(
                text: "counted to \(steps)",
                structured: ["steps_completed": .int(steps), "progress_requested": .bool(context.progress.isRequested)]
            )
        }
    }
}
