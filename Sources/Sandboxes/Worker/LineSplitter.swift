import Foundation

/// Splits a byte stream into newline-terminated lines in linear time, however long a line grows
/// (a 10 MB upload arrives as one JSON-RPC line).
public struct LineSplitter: Sendable {
    private var buffer = Data()
    /// Bytes before this offset are known to hold no newline.
    private var scanned = 0

    public init() {}

    /// Adds bytes and returns the lines they complete, without their `\n` (and without a trailing `\r`).
    public mutating func append(_ bytes: UnsafeRawBufferPointer) -> [Data] {
        buffer.append(contentsOf: bytes)
        var lines: [Data] = []
        var lineStart = buffer.startIndex
        var index = buffer.startIndex + scanned
        while let newline = buffer[index...].firstIndex(of: UInt8(ascii: "\n")) {
            var end = newline
            if end > lineStart, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            lines.append(Data(buffer[lineStart..<end]))
            lineStart = newline + 1
            index = lineStart
        }
        if lineStart > buffer.startIndex {
            buffer.removeSubrange(buffer.startIndex..<lineStart)
        }
        scanned = buffer.count
        return lines
    }
}
