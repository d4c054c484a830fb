import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `crema get ENTITY ID [FEATURE…]`: a quick look at one entity's features on a running
/// `crema serve`, pretty-printed.
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print the features of one entity from a running crema serve."
    )

    @Argument(help: "The entity (user, video, …).")
    var entity: String

    @Argument(help: "The entity's id; a cohort id as a JSON array, e.g. '[\"US\",\"music\"]'.")
    var id: String

    @Argument(help: "Features to read (group.aggregate_window); all of the entity's when none.")
    var features: [String] = []

    @Option(help: "The server's HTTP address: HOST:PORT.")
    var server = "127.0.0.1:8080"

    @Option(help: "Read time in epoch ms (only with FEATURE names); default now.")
    var at: Int64?

    func run() throws {
        let address = try HostAndPort(parsing: server, option: "--server")
        let (status, body): (Int, Data)
        if features.isEmpty {
            guard at == nil else { throw ValidationError("--at needs FEATURE names") }
            let path = "/v1/features/\(percentEncoded(entity))/\(percentEncoded(id))"
            (status, body) = try HTTPRequest.send(method: "GET", path: path, body: nil, to: address)
        } else {
            var request: [String: Any] = ["entity": entity, "ids": [try idJSON()], "features": features]
            if let at { request["at"] = at }
            let json = try JSONSerialization.data(withJSONObject: request)
            (status, body) = try HTTPRequest.send(method: "POST", path: "/v1/features", body: json, to: address)
        }
        guard status == 200 else {
            printToStandardError("\(status): \(String(decoding: body, as: UTF8.self))")
            throw ExitCode(1)
        }
        let object = try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
        print(String(decoding: pretty, as: UTF8.self))
    }

    /// The id as JSON: a cohort array as given, else a string.
    private func idJSON() throws -> Any {
        if id.hasPrefix("[") {
            return try JSONSerialization.jsonObject(with: Data(id.utf8))
        }
        return id
    }

    private func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? text
    }
}

/// A one-shot HTTP/1.1 request over a blocking socket (`Connection: close`).
enum HTTPRequest {
    /// Sends the request and returns the status code and body.
    static func send(method: String, path: String, body: Data?, to address: HostAndPort) throws -> (Int, Data) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address.host, String(address.port), &hints, &results) == 0, let first = results else {
            throw ValidationError("cannot resolve \(address.host)")
        }
        defer { freeaddrinfo(results) }
        let descriptor = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard descriptor >= 0, connect(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw ValidationError("cannot connect to \(address.host):\(address.port): \(String(cString: strerror(errno))); is crema serve running?")
        }
        defer { close(descriptor) }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(address.host)\r\nConnection: close\r\n"
        if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        var bytes = Data((request + "\r\n").utf8)
        if let body { bytes.append(body) }
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                guard written > 0 else { throw ValidationError("sending the request failed: \(String(cString: strerror(errno)))") }
                offset += written
            }
        }
        var response = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            guard count > 0 else { break }
            response.append(contentsOf: chunk[..<count])
        }
        guard let split = response.range(of: Data("\r\n\r\n".utf8)),
              let statusLine = String(data: response[..<split.lowerBound], encoding: .utf8)?.split(separator: "\r\n").first,
              let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else {
            throw ValidationError("the server's answer is not HTTP")
        }
        return (status, response[split.upperBound...])
    }
}
