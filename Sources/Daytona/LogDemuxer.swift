/// Splits a Daytona log stream into stdout and stderr: the stream switches with 3-byte markers (`01 01 01` stdout,
/// `02 02 02` stderr) that may arrive split across messages.
struct LogDemuxer: Sendable {
    enum Stream: Sendable { case stdout, stderr }

    /// The bytes of one message, by the stream they belong to.
    struct Split: Sendable {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
    }

    private var current: Stream = .stdout
    private var carry: [UInt8] = []

    mutating func append(_ bytes: some Collection<UInt8>) -> Split {
        let data = carry + Array(bytes)
        carry = []
        var split = Split()
        split.stdout.reserveCapacity(data.count)
        var index = 0
        let count = data.count
        while index < count {
            let byte = data[index]
            if byte == 1 || byte == 2 {
                if index + 3 <= count, data[index + 1] == byte, data[index + 2] == byte {
                    current = byte == 1 ? .stdout : .stderr
                    index += 3
                    continue
                }
                if index + 3 > count, data[index...].allSatisfy({ $0 == byte }) {
                    carry = Array(data[index...])  // maybe the start of a marker: decide when more arrives
                    break
                }
            }
            if current == .stdout { split.stdout.append(byte) } else { split.stderr.append(byte) }
            index += 1
        }
        return split
    }
}
