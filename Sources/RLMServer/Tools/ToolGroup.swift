/// A set of tools built from the dependencies they share: the one way tools are declared. Each group is a value holding
/// those dependencies; `tools` lists its definitions in the order `tools/list` shows them.
protocol ToolGroup: Sendable {
    var tools: [ToolDefinition] { get }
}
