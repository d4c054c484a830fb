import CremaEngine
import NIOHTTP1

/// A request the HTTP API refuses: the status to answer and a message naming the problem,
/// sent as `{"error": "message"}`.
struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The response status (400, 404, 405, 413, 500, 503).
    var status: HTTPResponseStatus
    /// What is wrong, in words a client can act on.
    var message: String
    /// For a 405, the method the path takes (sent as `Allow`).
    var allowedMethod: HTTPMethod?

    /// Creates an error.
    init(_ status: HTTPResponseStatus, _ message: String, allowing allowedMethod: HTTPMethod? = nil) {
        self.status = status
        self.message = message
        self.allowedMethod = allowedMethod
    }

    /// A 400 Bad Request.
    static func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message) }

    /// The HTTP form of an engine error: a bad request is a 400, an engine shutting down a
    /// 503, anything else (storage, corruption) a 500.
    init(_ error: EngineError) {
        switch error.code {
        case .badRequest: self.init(.badRequest, error.message)
        case .unavailable: self.init(.serviceUnavailable, error.message)
        default: self.init(.internalServerError, error.message)
        }
    }

    /// The message.
    var description: String { message }
}
