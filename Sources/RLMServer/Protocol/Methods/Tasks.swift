import RLMCommon

/// `tasks/get` (Tasks extension): a task's state, and its result once it completed.
enum TasksGet: MCPMethod {
    static let name = "tasks/get"
    static let eras: Set<Era> = [.modern]
    static func respond(to call: MethodCall) async throws -> JSONValue {
        try await call.runtime.tasks.get(try taskID(call), owner: call.owner)
    }
}

/// `tasks/update` (Tasks extension): these tasks never ask for input, so there is nothing to deliver.
enum TasksUpdate: MCPMethod {
    static let name = "tasks/update"
    static let eras: Set<Era> = [.modern]
    static func respond(to call: MethodCall) async throws -> JSONValue {
        try await call.runtime.tasks.update(try taskID(call), owner: call.owner)
        return [:]
    }
}

/// `tasks/cancel` (Tasks extension): stops a running task.
enum TasksCancel: MCPMethod {
    static let name = "tasks/cancel"
    static let eras: Set<Era> = [.modern]
    static func respond(to call: MethodCall) async throws -> JSONValue {
        try await call.runtime.tasks.cancel(try taskID(call), owner: call.owner)
        return [:]
    }
}

private func taskID(_ call: MethodCall) throws(RPCError) -> String {
    guard call.modern?.declaresTasks == true else { throw .missingCapability(ModernProtocol.tasksExtension, for: call.method) }
    guard let id = call.params["taskId"]?.stringValue else { throw .invalidParams("\(call.method) needs params.taskId (a string)") }
    return id
}
