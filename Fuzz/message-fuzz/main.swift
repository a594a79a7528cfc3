// Replays fuzz inputs through the JSON-RPC envelope check: the files named on the command line, or every file in
// Fuzz/corpus. The libFuzzer build of the same property is scripts/fuzz.sh (Fuzz/libfuzzer/Entry.swift).
import Foundation

let arguments = CommandLine.arguments.dropFirst()
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("corpus")
let files = arguments.isEmpty
    ? ((try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: nil)) ?? []).sorted { $0.path < $1.path }
    : arguments.map { URL(fileURLWithPath: $0) }
guard !files.isEmpty else {
    FileHandle.standardError.write(Data("message-fuzz: no corpus files at \(root.path); pass files to replay\n".utf8))
    exit(2)
}
for file in files {
    guard let data = FileManager.default.contents(atPath: file.path) else {
        FileHandle.standardError.write(Data("message-fuzz: cannot read \(file.path)\n".utf8))
        exit(2)
    }
    checkOne(data)
}
print("message-fuzz: \(files.count) inputs checked")
