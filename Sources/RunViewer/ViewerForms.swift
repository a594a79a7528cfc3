import Foundation
import Hummingbird

/// A form POST must come from a page on this very server: its Origin (which browsers send on every POST) must name
/// the Host it was sent to. No Origin at all is a non-browser client, which has no cookie to abuse.
enum SameOrigin {
    static func allows(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority, let parsed = URLComponents(string: origin), let originHost = parsed.host else { return false }
        let originAuthority = parsed.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }
}

/// `application/x-www-form-urlencoded` fields.
enum FormBody {
    static func value(of name: String, in body: String) -> String? {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.first == name else { continue }
            let raw = parts.count > 1 ? parts[1] : ""
            return raw.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        return nil
    }
}
