import Foundation

/// The one JSON form of recorded runs, shared by `rlm-mcp runs … --json`/`export` and the MCP resources
/// (`rlm://runs/<run_id>`), so a run reads the same everywhere: sorted keys, ISO 8601 dates, unescaped slashes.
public enum RunJSON {
    public static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    public static func string(_ value: some Encodable, pretty: Bool = true) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }
}
