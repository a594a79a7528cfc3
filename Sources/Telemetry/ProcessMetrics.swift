import Foundation

/// The standard Prometheus `process_*` series, read from `/proc/self` at scrape time (Linux; nothing elsewhere).
struct ProcessMetrics: Sendable {
    /// Kernel clock ticks per second, for the CPU times in `/proc/self/stat`.
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    func render() -> String {
        var lines: [String] = []
        if let stat = Self.statFields() {
            // Fields 14 and 15 (utime, stime) counted from 1; `statFields` starts after the command name (field 3).
            if stat.count > 12, let user = Double(stat[11]), let system = Double(stat[12]) {
                lines += ["# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
                          "# TYPE process_cpu_seconds_total counter",
                          "process_cpu_seconds_total \((user + system) / ticksPerSecond)"]
            }
            // Field 24 (rss, in pages).
            if stat.count > 21, let pages = Double(stat[21]) {
                lines += ["# HELP process_resident_memory_bytes Resident memory size in bytes.",
                          "# TYPE process_resident_memory_bytes gauge",
                          "process_resident_memory_bytes \(pages * pageSize)"]
            }
        }
        if let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            lines += ["# HELP process_open_fds Number of open file descriptors.",
                      "# TYPE process_open_fds gauge",
                      // The listing itself holds one descriptor open while it reads the directory.
                      "process_open_fds \(max(0, fds.count - 1))"]
        }
        if let limit = Self.maxOpenFiles() {
            lines += ["# HELP process_max_fds Maximum number of open file descriptors.",
                      "# TYPE process_max_fds gauge",
                      "process_max_fds \(limit)"]
        }
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// `/proc/self/stat` from field 3 (state) on: the command name in field 2 may itself contain spaces and ')'.
    private static func statFields() -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    private static func maxOpenFiles() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return UInt64(limit.rlim_cur)
    }
}
