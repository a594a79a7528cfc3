import Foundation

/// Quoting for POSIX shells, the one way every command line the project builds (Daytona sessions, deployment,
/// printed `claude mcp add` lines) embeds a word, so a path or token with quotes or spaces cannot break out of it.
public enum ShellWord {
    /// The word unchanged when it needs no quoting, else single-quoted with embedded quotes escaped as `'\''`.
    public static func quoted(_ word: String) -> String {
        let plain = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_./:=@%+,"))
        if !word.isEmpty, word.unicodeScalars.allSatisfy({ $0.isASCII && plain.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
