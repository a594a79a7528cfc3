/// The product's version, shown by `--version`, `/health`, `rlm_status` and the MCP server info.
public enum RLMVersion {
    public static let current = "0.1.0"
}
