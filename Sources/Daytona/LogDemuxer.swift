/// Splits a Daytona log stream into stdout and stderr: the stream switches with 3-byte markers (`01 01 01` stdout,
/// `02 02 02` stderr) that may arrive split across messages.
struct LogDemuxer: Sendable {
    enum Stream: Sendable { case stdout, stderr }

    private var current: Stream = .stdout
    private var carry: [UInt8] = []

    mutating func append(_ bytes: some Collection<UInt8>) -> (stdout: [UInt8], stderr: [UInt8]) {
        let data = carry + Array(bytes)
        carry = []
        var out: [UInt8] = []
        var err: [UInt8] = []
        out.reserveCapacity(data.count)
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
            if current == .stdout { out.append(byte) } else { err.append(byte) }
            index += 1
        }
        return (out, err)
    }
}
