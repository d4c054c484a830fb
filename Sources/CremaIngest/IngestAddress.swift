/// Where the ingest socket listens: a TCP host and port, or a Unix socket path.
public enum IngestAddress: Sendable, Hashable, CustomStringConvertible {
    /// A TCP address; port 0 asks the system for a free port.
    case tcp(host: String, port: Int)
    /// A Unix domain socket at `path`.
    case unix(path: String)

    /// Parses `HOST:PORT` (`[::1]:7070` for IPv6) or `unix:PATH`.
    public init(parsing text: String) throws(IngestError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else {
                throw IngestError(code: .invalidAddress, message: "invalid ingest address \(text): empty socket path")
            }
            self = .unix(path: path)
            return
        }
        guard let colon = text.lastIndex(of: ":") else {
            throw IngestError(code: .invalidAddress, message: "invalid ingest address \(text): expected HOST:PORT or unix:PATH")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            throw IngestError(code: .invalidAddress, message: "invalid ingest address \(text): expected HOST:PORT with a port in 0...65535")
        }
        self = .tcp(host: host, port: port)
    }

    /// `HOST:PORT`, `[V6]:PORT` or `unix:PATH`.
    public var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        }
    }
}
