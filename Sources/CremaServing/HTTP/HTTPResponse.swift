import NIOHTTP1

/// A complete response, built by `HTTPAPI` and written by `HTTPHandler`.
struct HTTPResponse: Sendable {
    /// The status.
    var status: HTTPResponseStatus
    /// The `Content-Type` header.
    var contentType: String
    /// The body bytes.
    var body: [UInt8]
    /// Extra headers (`Allow` on a 405).
    var headers: [(String, String)] = []

    /// A JSON response.
    static func json(_ writer: JSONWriter, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: writer.bytes)
    }

    /// `{"error": "message"}` with the error's status.
    static func error(_ error: HTTPError) -> HTTPResponse {
        var writer = JSONWriter(capacity: error.message.utf8.count + 16)
        writer.raw("{")
        writer.key("error", isFirst: true)
        writer.string(error.message)
        writer.raw("}")
        var response = json(writer, status: error.status)
        if let method = error.allowedMethod { response.headers.append(("Allow", method.rawValue)) }
        return response
    }
}
