import Foundation
import HTTPTypes
import Hummingbird

/// Responses with the viewer's security headers: a strict Content-Security-Policy (only this server's own script and
/// style, no inline code, no framing), no MIME sniffing, no referrer to other sites.
enum ViewerResponse {
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func secured(_ headers: HTTPFields = [:]) -> HTTPFields {
        var headers = headers
        headers[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin" // "no-referrer" would make browsers send `Origin: null` on the login POST
        headers[.cacheControl] = headers[.cacheControl] ?? "no-store"
        return headers
    }

    static func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: secured([.contentType: "text/html; charset=utf-8"]),
                 body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func text(_ body: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: secured([.contentType: "text/plain; charset=utf-8"]),
                 body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    static func redirect(to location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = secured(extra)
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    static func forbiddenOrigin() -> Response {
        text("this form must be sent from a page of this server", status: .forbidden)
    }
}
