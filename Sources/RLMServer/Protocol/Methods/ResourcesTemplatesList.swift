import RLMCommon

/// `resources/templates/list`: the one URI template, `rlm://runs/{run_id}`, for runs older than `resources/list` shows.
enum ResourcesTemplatesList: MCPMethod {
    static let name = "resources/templates/list"
    static let eras: Set<Era> = [.handshake, .modern]

    static let template: JSONValue = [
        "uriTemplate": .string(RunResources.template),
        "name": "run",
        "title": "A recorded RLM run",
        "description": "One run's whole trajectory (replies, code, output, sub-calls, usage) by its run_id, as rlm_* tools return it",
        "mimeType": .string(RunResources.mimeType),
    ]

    static func respond(to call: MethodCall) async throws -> JSONValue {
        if let cursor = call.params["cursor"], cursor != .null {
            throw RPCError.invalidParams("Invalid params: invalid cursor: resources/templates/list has one page and issues no cursors")
        }
        guard call.era == .modern else { return ["resourceTemplates": [template]] }
        // The template is the same for everyone and for the life of the process.
        return ["resourceTemplates": [template], "ttlMs": .int(ToolsList.ttlMilliseconds), "cacheScope": "public"]
    }
}
