import NIOCore
import NIOPosix

/// One HTTP response as the test client read it.
struct TestResponse {
    /// The status code.
    var status: Int
    /// Header names (lowercased) to values.
    var headers: [String: String]
    /// The body bytes.
    var body: [UInt8]
    /// The body as text.
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A minimal HTTP/1.1 client over a real socket, written by hand: it sends requests on one
/// connection and reads `Content-Length`-framed responses (all the server writes).
enum HTTPTestClient {
    /// Sends one request on a new connection.
    static func request(
        port: Int, _ method: String, _ path: String, body: String? = nil, headers: [(String, String)] = []
    ) async throws -> TestResponse {
        try await exchange(port: port, [rawRequest(method, path, body: body.map { Array($0.utf8) }, headers: headers)]).first!
    }

    /// A request's bytes.
    static func rawRequest(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) -> [UInt8] {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + (body ?? [])
    }

    /// Sends `requests` one after the other on one keep-alive connection, reading each response.
    static func exchange(port: Int, _ requests: [[UInt8]]) async throws -> [TestResponse] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var iterator = inbound.makeAsyncIterator()
            var pending: [UInt8] = []
            var responses: [TestResponse] = []
            for request in requests {
                try await outbound.write(ByteBuffer(bytes: request))
                while true {
                    if let (response, used) = parse(pending) {
                        responses.append(response)
                        pending.removeFirst(used)
                        break
                    }
                    guard let chunk = try await iterator.next() else { throw TestClientError.closed }
                    pending += Array(chunk.readableBytesView)
                }
            }
            return responses
        }
    }

    /// A complete response at the start of `bytes` and its length, or nil if more is needed.
    private static func parse(_ bytes: [UInt8]) -> (TestResponse, Int)? {
        let separator = Array("\r\n\r\n".utf8)
        guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            return nil
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1])!
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            headers[parts[0].lowercased()] = parts[1].drop { $0 == " " }.description
        }
        let length = Int(headers["content-length"] ?? "0")!
        let bodyStart = end + 4
        guard bytes.count >= bodyStart + length else { return nil }
        return (TestResponse(status: status, headers: headers, body: Array(bytes[bodyStart..<bodyStart + length])), bodyStart + length)
    }
}

/// The server closed the connection before a full response.
struct TestClientError: Error {
    /// The connection closed early.
    static let closed = TestClientError()
}
