import Foundation

/// Splits a byte stream into newline-terminated lines in linear time, however long a line grows
/// (a 10 MB upload arrives as one JSON-RPC line), up to an optional cap on one line.
public struct LineSplitter: Sendable {
    /// A line (or the unfinished tail of one) grew past the cap; the splitter holds nothing afterwards.
    public struct LineTooLong: Error, Sendable, Equatable {
        public let limit: Int
    }

    private let maxLineBytes: Int
    private var buffer = Data()
    /// Bytes before this offset are known to hold no newline.
    private var scanned = 0

    /// `maxLineBytes`: the longest line accepted, without its newline; a peer that sends more is refused rather than
    /// buffered without bound.
    public init(maxLineBytes: Int = .max) {
        self.maxLineBytes = maxLineBytes
    }

    /// Adds bytes and returns the lines they complete, without their `\n` (and without a trailing `\r`).
    public mutating func append(_ bytes: UnsafeRawBufferPointer) throws(LineTooLong) -> [Data] {
        buffer.append(contentsOf: bytes)
        return try splitBuffer()
    }

    /// Adds bytes and returns the lines they complete, as `append(_:)` with a raw buffer does.
    public mutating func append(_ data: Data) throws(LineTooLong) -> [Data] {
        buffer.append(data)
        return try splitBuffer()
    }

    private mutating func splitBuffer() throws(LineTooLong) -> [Data] {
        var lines: [Data] = []
        var lineStart = buffer.startIndex
        var index = buffer.startIndex + scanned
        while let newline = buffer[index...].firstIndex(of: UInt8(ascii: "\n")) {
            var end = newline
            if end > lineStart, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            guard end - lineStart <= maxLineBytes else {
                discard()
                throw LineTooLong(limit: maxLineBytes)
            }
            lines.append(Data(buffer[lineStart..<end]))
            lineStart = newline + 1
            index = lineStart
        }
        if lineStart > buffer.startIndex {
            buffer.removeSubrange(buffer.startIndex..<lineStart)
        }
        guard buffer.count <= maxLineBytes else {
            discard()
            throw LineTooLong(limit: maxLineBytes)
        }
        scanned = buffer.count
        return lines
    }

    private mutating func discard() {
        buffer = Data()
        scanned = 0
    }
}
