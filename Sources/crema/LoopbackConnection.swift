import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP connection to 127.0.0.1, for the benchmarks' own clients. The owner closes
/// it with `close()`.
struct LoopbackConnection: Sendable {
    /// The socket's file descriptor.
    let descriptor: Int32

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchmarkError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let cause = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw BenchmarkError("connect to 127.0.0.1:\(port): \(cause)")
        }
        self.descriptor = descriptor
    }

    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = send(descriptor, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                guard written > 0 else { throw BenchmarkError("send: \(String(cString: strerror(errno)))") }
                offset += written
            }
        }
    }

    /// Waits for bytes and reads up to `buffer.count` of them into `buffer`; returns how many,
    /// 0 when the peer closed the connection.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = recv(descriptor, buffer.baseAddress!, buffer.count, 0)
        guard count >= 0 else { throw BenchmarkError("recv: \(String(cString: strerror(errno)))") }
        return count
    }

    /// Ends both directions, waking a thread blocked in `read(into:)`.
    func shutdownBothWays() { shutdown(descriptor, Int32(SHUT_RDWR)) }

    /// Closes the socket.
    func close() { Glibc.close(descriptor) }

    /// A TCP port on 127.0.0.1 that was free a moment ago, for a server this process starts.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw BenchmarkError("no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
