/// The tool list as clients see it, in `tools/list` order: the one copy the Swift tests compare against.
enum ExpectedTools {
    static let names = ["rlm_status", "sandbox_exec", "sandbox_exec_stateful", "sandbox_upload", "sandbox_download", "sandbox_files",
                        "sandbox_shell", "rlm_execute", "rlm_analyze", "rlm_code", "rlm_decompose"]
    /// Registered with `RLM_DIAGNOSTIC_TOOLS=1`.
    static let diagnostic = ["diagnostic_progress"]
    static let readOnly = ["rlm_status", "sandbox_download", "sandbox_files"]
}
