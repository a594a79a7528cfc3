/// The one containment rule for a path that names something in a sandbox's work dir, whatever the backend: relative
/// paths, or absolute ones under the root the sandbox's code sees (e.g. `/work`); no NUL bytes; `.` and `..` resolved
/// lexically, and a `..` that would climb above the root refused. Symbolic links are the backend's to refuse where it
/// opens the file (locally `openat2(RESOLVE_BENEATH)`).
public enum SandboxPath {
    /// The path relative to the root ("." for the root itself), or an error saying why it is not allowed.
    public static func relative(_ path: String, root: String) throws(SandboxError) -> String {
        if path.contains("\0") { throw .invalidPath(path, reason: "it contains a NUL byte") }
        var relative = Substring(path)
        if path.hasPrefix("/") {
            guard path == root || path.hasPrefix(root + "/") else {
                throw .invalidPath(path, reason: "absolute paths must be inside the sandbox work dir \(root); use a relative path")
            }
            relative = path.dropFirst(root.count)
        }
        var parts: [Substring] = []
        for part in relative.split(separator: "/") where part != "." {
            if part == ".." {
                guard !parts.isEmpty else { throw .invalidPath(path, reason: "it leads outside the sandbox work dir") }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
