import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to 127.0.0.1 that writes bytes and reads lines: a producer in tests.
final class LineSocket {
    private let descriptor: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw ProcessFailure(message: "connect: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    /// Writes all of `text`.
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw ProcessFailure(message: "send: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }

    /// Reads one line (without its newline); nil at end of stream.
    func readLine() throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count == 0 { return nil }
            guard count > 0 else { throw ProcessFailure(message: "recv: \(String(cString: strerror(errno)))") }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// Reads everything until the peer closes the connection.
    func readToEnd() throws -> String {
        var lines: [String] = []
        while let line = try readLine() { lines.append(line) }
        lines.append(String(decoding: buffer, as: UTF8.self))
        buffer.removeAll()
        return lines.joined(separator: "\n")
    }

    /// Reads lines until a JSON line with key `key`; returns it parsed.
    func readReply(withKey key: String) throws -> [String: Any] {
        while let line = try readLine() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            if object[key] != nil { return object }
        }
        throw ProcessFailure(message: "connection closed before a reply with \"\(key)\"")
    }
}
