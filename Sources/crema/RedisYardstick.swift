import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The yardstick of `crema bench read`: a private redis-server on 127.0.0.1 holding one value
/// per candidate id (8 ints as text, "0,1,2,3,4,5,6,7", like 8 features), and a client that
/// times one MGET of a request's ids as lean as a client gets: the command written straight
/// into bytes, the whole reply read into one buffer and parsed into the offsets of its values,
/// no value copied. The server is stopped and its directory removed in `deinit`.
final class RedisYardstick {
    /// The value stored under every key.
    static let value = "0,1,2,3,4,5,6,7"

    private let server: Process
    private let directory: URL
    private let connection: LoopbackConnection
    /// The command being written, reused.
    private var command: [UInt8] = []
    /// The reply being read; grows to the largest reply.
    private var reply = [UInt8](repeating: 0, count: 1 << 20)
    private var parser = ArrayReplyParser()

    /// Starts redis-server and stores `value` under each of `keys`; nil when redis-server is
    /// not installed (Debian: `apt-get install redis-server`).
    static func start(keys: [String]) throws -> RedisYardstick? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        guard let executable = path.split(separator: ":").map({ "\($0)/redis-server" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { return nil }
        let port = try LoopbackConnection.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crema-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: executable)
        server.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        var connection: LoopbackConnection?
        for _ in 0..<100 where connection == nil {
            connection = try? LoopbackConnection(port: port)
            if connection == nil { usleep(50_000) }
        }
        guard let connection else {
            Self.stop(server, directory)
            throw BenchmarkError("redis-server did not accept connections on 127.0.0.1:\(port)")
        }
        let yardstick = RedisYardstick(server: server, directory: directory, connection: connection)
        for start in stride(from: 0, to: keys.count, by: 10_000) {
            try yardstick.storeValue(under: keys[start..<min(keys.count, start + 10_000)])
        }
        return yardstick
    }

    private init(server: Process, directory: URL, connection: LoopbackConnection) {
        self.server = server
        self.directory = directory
        self.connection = connection
    }

    deinit {
        connection.close()
        Self.stop(server, directory)
    }

    /// Sends `MGET keys…`, reads and parses the whole reply; returns how many keys had a value.
    func multiGet(_ keys: [String]) throws -> Int {
        command.removeAll(keepingCapacity: true)
        appendArrayHeader(count: keys.count + 1)
        appendBulkString("MGET")
        for key in keys { appendBulkString(key) }
        try connection.write(command)
        try readReply()
        guard parser.valueLengths.count == keys.count else {
            throw BenchmarkError("redis answered \(parser.valueLengths.count) values to an MGET of \(keys.count) keys")
        }
        return parser.valueLengths.count { $0 >= 0 }
    }

    private func storeValue(under keys: ArraySlice<String>) throws {
        command.removeAll(keepingCapacity: true)
        appendArrayHeader(count: keys.count * 2 + 1)
        appendBulkString("MSET")
        for key in keys {
            appendBulkString(key)
            appendBulkString(Self.value)
        }
        try connection.write(command)
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.last != UInt8(ascii: "\n") {
            guard try withUnsafeMutableBytes(of: &byte, { try connection.read(into: $0) }) == 1 else {
                throw BenchmarkError("redis closed the connection")
            }
            line.append(byte)
        }
        guard line == Array("+OK\r\n".utf8) else { throw BenchmarkError("redis answered MSET with \(String(decoding: line, as: UTF8.self))") }
    }

    /// Reads into `reply` until `parser` has the whole array.
    private func readReply() throws {
        parser.reset()
        var filled = 0
        while true {
            if reply.count - filled < 65_536 { reply.append(contentsOf: repeatElement(0, count: reply.count)) }
            let count = try reply.withUnsafeMutableBytes { try connection.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            guard count > 0 else { throw BenchmarkError("redis closed the connection") }
            filled += count
            if try reply.withUnsafeBufferPointer({ try parser.advance(over: UnsafeBufferPointer(rebasing: $0[..<filled])) }) { return }
        }
    }

    private func appendArrayHeader(count: Int) {
        command.append(UInt8(ascii: "*"))
        appendDecimal(count)
    }

    private func appendBulkString(_ text: String) {
        command.append(UInt8(ascii: "$"))
        appendDecimal(text.utf8.count)
        command.append(contentsOf: text.utf8)
        command.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }

    /// `number` in decimal and CRLF.
    private func appendDecimal(_ number: Int) {
        var divisor = 1
        while divisor * 10 <= number { divisor *= 10 }
        while divisor > 0 {
            command.append(UInt8(ascii: "0") + UInt8(number / divisor % 10))
            divisor /= 10
        }
        command.append(contentsOf: [UInt8(ascii: "\r"), UInt8(ascii: "\n")])
    }

    private static func stop(_ server: Process, _ directory: URL) {
        // SIGKILL: the process holds nothing to save, and a SIGTERM could find the signal
        // blocked in a mask inherited from one of this process's threads.
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Parses a RESP array of bulk strings (`*N\r\n` then `$L\r\n<L bytes>\r\n` or `$-1\r\n` each)
/// as its bytes arrive, into where each value starts and its length.
struct ArrayReplyParser {
    /// Where each value parsed so far starts in the reply.
    private(set) var valueStarts: [Int] = []
    /// Each value's length; -1 for a key without a value.
    private(set) var valueLengths: [Int] = []
    private var position = 0
    private var expectedCount: Int?

    /// Forgets the last reply, keeping the arrays' storage.
    mutating func reset() {
        valueStarts.removeAll(keepingCapacity: true)
        valueLengths.removeAll(keepingCapacity: true)
        position = 0
        expectedCount = nil
    }

    /// Parses the values that `reply` (all bytes received so far) completes; returns whether
    /// the array is complete.
    mutating func advance(over reply: UnsafeBufferPointer<UInt8>) throws -> Bool {
        if expectedCount == nil {
            guard let (count, next) = try header(UInt8(ascii: "*"), at: position, in: reply) else { return false }
            expectedCount = count
            valueStarts.reserveCapacity(count)
            valueLengths.reserveCapacity(count)
            position = next
        }
        while valueLengths.count < expectedCount! {
            guard let (length, next) = try header(UInt8(ascii: "$"), at: position, in: reply) else { return false }
            if length < 0 {
                valueStarts.append(next)
                valueLengths.append(-1)
                position = next
                continue
            }
            guard next + length + 2 <= reply.count else { return false }
            valueStarts.append(next)
            valueLengths.append(length)
            position = next + length + 2
        }
        return true
    }

    /// The number of a `<prefix><number>\r\n` line at `start` and where the next line starts;
    /// nil while the line is incomplete.
    private func header(_ prefix: UInt8, at start: Int, in reply: UnsafeBufferPointer<UInt8>) throws -> (Int, Int)? {
        guard start < reply.count else { return nil }
        guard reply[start] == prefix else {
            throw BenchmarkError("unexpected redis reply at byte \(start): \(String(decoding: reply[start..<min(reply.count, start + 80)], as: UTF8.self))")
        }
        var index = start + 1
        let isNegative = index < reply.count && reply[index] == UInt8(ascii: "-")
        if isNegative { index += 1 }
        var number = 0
        while index < reply.count, reply[index] != UInt8(ascii: "\r") {
            number = number * 10 + Int(reply[index] &- UInt8(ascii: "0"))
            index += 1
        }
        guard index + 1 < reply.count else { return nil }
        return (isNegative ? -number : number, index + 2)
    }
}
