import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One producer connection of the ingest benchmark: writes pre-generated chunks of lines with
/// at most `window` chunks unacknowledged, and times each chunk from its last byte written to
/// the ack that covers it.
final class IngestLoad: @unchecked Sendable {
    private let descriptor: Int32
    private let chunks: [[UInt8]]
    private let lastLineOfChunk: [Int]
    private let window: DispatchSemaphore
    private var sentAt: [ContinuousClock.Instant]
    private let sentLock = NSLock()
    /// Seconds from each chunk's write to its ack, filled by `run()`.
    private(set) var latencies: [Double] = []
    /// The connection's final ack line.
    private(set) var finalAck = ""

    /// Connects to 127.0.0.1:`port` and says hello as `producer`.
    init(port: Int, producer: String, chunks: [[UInt8]], linesPerChunk: [Int], window: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw BenchmarkError("connect: \(String(cString: strerror(errno)))") }
        self.chunks = chunks
        var total = 0
        lastLineOfChunk = linesPerChunk.map { total += $0; return total }
        self.window = DispatchSemaphore(value: window)
        sentAt = Array(repeating: .now, count: chunks.count)
        try write(Array("{\"producer\": \"\(producer)\"}\n".utf8))
    }

    deinit { close(descriptor) }

    /// Sends every chunk and waits for the ack of the last one.
    func run() throws {
        let reader = Thread { [self] in readAcks() }
        reader.start()
        for (index, chunk) in chunks.enumerated() {
            window.wait()
            try write(chunk)
            let now = ContinuousClock.now
            sentLock.withLock { sentAt[index] = now }
        }
        while !isFinished { usleep(1_000) }
    }

    private var isFinished: Bool { sentLock.withLock { latencies.count == chunks.count } }

    private func readAcks() {
        var buffer: [UInt8] = []
        var acknowledgedChunks = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while acknowledgedChunks < chunks.count {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            guard count > 0 else { return }
            buffer.append(contentsOf: chunk[..<count])
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                guard let acknowledged = Self.ackedLine(line) else { continue }
                let now = ContinuousClock.now
                while acknowledgedChunks < chunks.count && lastLineOfChunk[acknowledgedChunks] <= acknowledged {
                    sentLock.withLock {
                        let elapsed = now - sentAt[acknowledgedChunks]
                        latencies.append(elapsed.inSeconds)
                        finalAck = line
                    }
                    acknowledgedChunks += 1
                    window.signal()
                }
            }
        }
    }

    /// N of `{"ack": N, …}`, or nil for other lines.
    private static func ackedLine(_ line: String) -> Int? {
        guard let range = line.range(of: "\"ack\": ") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { throw BenchmarkError("send: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }
}
