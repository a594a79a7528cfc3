import Foundation
import PostgresNIO

/// A PostgreSQL failure in words: the server's own message when it sent one (PSQLError's description hides it), else
/// why the connection could not be made.
enum PostgresProblem {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if error.code == .connectionError, let underlying = error.underlying {
            if case ChannelError.connectTimeout = underlying {
                return "no connection within \(PostgresURL.connectTimeout.components.seconds) s (the server does not answer)"
            }
            // NIO lists every address it tried; the last attempt's error (or the name lookup's) is the reason.
            if let failure = underlying as? NIOConnectionError,
               let reason = failure.connectionErrors.last?.error ?? failure.dnsAError ?? failure.dnsAAAAError {
                // IOError's own wording is garbled ("connection reset (error set): Connection refused)"); the errno's is not.
                if let io = reason as? IOError { return "cannot connect: \(String(cString: strerror(io.errnoCode)))" }
                return "cannot connect: \(reason)"
            }
            return "cannot connect: \(underlying)"
        }
        return "\(error.code)"
    }
}
