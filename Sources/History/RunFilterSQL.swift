import Foundation

/// A `RunFilter` as a SQL WHERE clause, shared by the SQLite and PostgreSQL stores, which differ only in how a bound
/// value is written (`?` or `$1`) and in their case-insensitive LIKE.
struct RunFilterSQL {
    /// A value bound to one placeholder.
    enum Value: Equatable {
        case text(String)
        case seconds(Double)
    }

    var whereClause: String
    var values: [Value]

    init(_ filter: RunFilter, placeholder: (Int) -> String, insensitiveLike: String) {
        var conditions: [String] = []
        var values: [Value] = []
        func bind(_ value: Value) -> String {
            values.append(value)
            return placeholder(values.count)
        }
        if let runID = filter.runID { conditions.append("id = \(bind(.text(runID)))") }
        if let status = filter.status { conditions.append("status = \(bind(.text(status)))") }
        if let tool = filter.tool { conditions.append("tool = \(bind(.text(tool)))") }
        if let since = filter.since { conditions.append("started_at >= \(bind(.seconds(since.timeIntervalSince1970)))") }
        if let until = filter.until { conditions.append("started_at < \(bind(.seconds(until.timeIntervalSince1970)))") }
        if let pattern = filter.likePattern {
            conditions.append("task \(insensitiveLike) \(bind(.text(pattern))) ESCAPE '\\'")
        }
        if let visibility = filter.visibleTo {
            var allowed = visibility.workspaces.map { "workspace = \(bind(.text($0)))" }
            if let owner = visibility.owner { allowed.append("owner = \(bind(.text(owner)))") }
            if visibility.unowned { allowed.append("owner IS NULL") }
            // An empty visibility sees nothing rather than everything.
            conditions.append(allowed.isEmpty ? "1 = 0" : "(" + allowed.joined(separator: " OR ") + ")")
        }
        whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        self.values = values
    }
}
