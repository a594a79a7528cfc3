/// Every method the protocol core serves, one registration line each: the only list there is.
enum MethodTable {
    static let requests: [any MCPMethod.Type] = [
        Initialize.self,
        Ping.self,
        ToolsList.self,
        ToolsCall.self,
        LoggingSetLevel.self,
        ServerDiscover.self,
        TasksGet.self,
        TasksUpdate.self,
        TasksCancel.self,
        ResourcesList.self,
        ResourcesRead.self,
        ResourcesTemplatesList.self,
    ]

    static let notifications: [any MCPNotificationMethod.Type] = [
        InitializedNotification.self,
        CancelledNotification.self,
    ]

    private static let requestsByName = Dictionary(uniqueKeysWithValues: requests.map { ($0.name, $0) })
    private static let notificationsByName = Dictionary(uniqueKeysWithValues: notifications.map { ($0.name, $0) })

    static func method(named name: String, era: Era) -> (any MCPMethod.Type)? {
        guard let method = requestsByName[name], method.eras.contains(era) else { return nil }
        return method
    }

    static func notification(named name: String) -> (any MCPNotificationMethod.Type)? { notificationsByName[name] }

    static func names(for era: Era) -> Set<String> { Set(requests.filter { $0.eras.contains(era) }.map { $0.name }) }
}
