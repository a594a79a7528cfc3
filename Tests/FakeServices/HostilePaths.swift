/// Paths that must never name anything outside a sandbox's work dir, checked against every backend with the same
/// table: `SandboxPath` itself, the local sandbox's files and the Daytona sandbox's.
public enum HostilePaths {
    /// The sandbox's work dir as its code sees it, for absolute paths in the table.
    public static let root = "/work"

    public static let all: [String] = [
        "..",
        "../escape.txt",
        "../../../../etc/passwd",
        "a/../../escape.txt",
        "./../escape.txt",
        "a/b/../../../escape.txt",
        "/etc/passwd",
        "/work/../etc/passwd",
        "/workshop/file.txt",
        "/tmp/x",
        "file\u{0}.txt",
        "a/\u{0}/b",
    ]

    /// Paths that stay inside, with what they resolve to.
    public static let contained: [(path: String, relative: String)] = [
        ("a/b/../c.txt", "a/c.txt"),
        ("./a//b/./c", "a/b/c"),
        ("/work", "."),
        ("/work/", "."),
        ("/work/data/x.csv", "data/x.csv"),
        ("a/..", "."),
        ("...", "..."),
    ]
}
