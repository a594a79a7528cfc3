import Foundation

/// The REPL's live variables as the REPL itself reports them (name, type, size, a short repr), for the history summary:
/// what the model relies on must come from the namespace, not from its memory of earlier output.
enum ReplInventory: Sendable, Equatable {
    struct Variable: Sendable, Equatable, Decodable {
        var name: String
        var type: String
        /// `len()` of the value, when it has one.
        var length: Int?
        var repr: String
    }

    case listed([Variable], more: Int)
    /// Why the variables could not be read (the worker was restarted, the listing failed).
    case unavailable(String)

    /// Most variables listed; the rest are counted.
    static let maxVariables = 40

    /// Runs in the run's namespace: lists its variables as one JSON line and leaves nothing behind. Helpers, modules,
    /// and names starting with `_` are left out; reprlib keeps huge values from costing a huge repr.
    static let snippet = """
        def __rlm_inventory():
            import json, reprlib, types
            helpers = {"llm_query", "llm_query_batched", "rlm_query", "SUBMIT", "FINAL", "FINAL_VAR"}
            short = reprlib.Repr()
            short.maxstring, short.maxother, short.maxlist, short.maxdict = 100, 100, 6, 6
            found = []
            for name, value in list(globals().items()):
                if name.startswith("_") or name in helpers or isinstance(value, types.ModuleType):
                    continue
                try:
                    text = short.repr(value)
                except Exception as error:
                    text = f"<repr failed: {type(error).__name__}>"
                try:
                    length = len(value)
                except Exception:
                    length = None
                found.append({"name": name, "type": type(value).__name__, "length": length, "repr": text[:160]})
            print(json.dumps({"variables": found[:\(maxVariables)], "more": max(0, len(found) - \(maxVariables))}))
        __rlm_inventory()
        del __rlm_inventory
        """

    /// Reads the snippet's output; anything else is reported as unavailable with what came back.
    static func parse(stdout: String) -> ReplInventory {
        struct Listing: Decodable {
            var variables: [Variable]
            var more: Int
        }
        guard let line = stdout.split(separator: "\n").last,
              let listing = try? JSONDecoder().decode(Listing.self, from: Data(line.utf8))
        else { return .unavailable("the variable listing printed something unexpected: \(TextCut.firstLine(stdout, limit: 120))") }
        return .listed(listing.variables, more: listing.more)
    }

    /// One line per variable, within `limit` characters.
    func rendered(limit: Int) -> String {
        switch self {
        case let .unavailable(reason):
            return "(not available: \(reason))"
        case let .listed(variables, more):
            if variables.isEmpty { return "(none besides the helpers)" }
            var lines = variables.map { variable in
                "- `\(variable.name)`: \(variable.type)\(variable.length.map { ", len \($0)" } ?? "") = \(variable.repr)"
            }
            if more > 0 { lines.append("- … and \(more) more") }
            return TextCut.cut(lines.joined(separator: "\n"), toChars: limit)
        }
    }
}
