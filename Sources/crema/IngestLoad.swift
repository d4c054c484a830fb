import Foundation

/// One producer connection of the ingest benchmarks: writes pre-generated chunks of lines with
/// at most `window` chunks unacknowledged, and times each chunk from its last byte written to
/// the ack that covers it. Without a producer name it says no hello, so the same chunks can be
/// sent again and again (`run(until:)`).
final class IngestLoad: @unchecked Sendable {
    private let connection: LoopbackConnection
    private let chunks: [[UInt8]]
    /// Each chunk's last line, counted from the first line of its round.
    private let lastLineOfChunk: [Int]
    private let linesPerRound: Int
    private let window: DispatchSemaphore
    private let windowSize: Int
    /// When each unacknowledged chunk was written, by its number (counted over rounds) modulo
    /// `windowSize`.
    private var sentAt: [ContinuousClock.Instant]
    private var chunksSent = 0
    private let sentLock = NSLock()
    /// Seconds from each chunk's write to its ack, filled by `run()`.
    private(set) var latencies: [Double] = []
    /// The connection's final ack line.
    private(set) var finalAck = ""

    /// Connects to 127.0.0.1:`port` and says hello as `producer`, if given.
    init(port: Int, producer: String?, chunks: [[UInt8]], linesPerChunk: [Int], window: Int) throws {
        connection = try LoopbackConnection(port: port)
        self.chunks = chunks
        var total = 0
        lastLineOfChunk = linesPerChunk.map { total += $0; return total }
        linesPerRound = total
        self.window = DispatchSemaphore(value: window)
        windowSize = window
        sentAt = Array(repeating: .now, count: window)
        if let producer { try connection.write(Array("{\"producer\": \"\(producer)\"}\n".utf8)) }
    }

    deinit { connection.close() }

    /// Sends every chunk once and waits for the ack of the last one.
    func run() throws {
        try run { round in round == 1 }
    }

    /// Sends the chunks round after round, until `isDone(rounds sent)` says so before a chunk,
    /// then waits for the ack of the last one sent.
    func run(until isDone: @escaping (_ roundsSent: Int) -> Bool) throws {
        let reader = Thread { [self] in readAcks() }
        reader.start()
        var sent = 0
        while !isDone(sent / chunks.count) {
            window.wait()
            // Counted as sent before it is written, so that its ack is never missed; timed
            // again once written.
            sentLock.withLock {
                sentAt[sent % windowSize] = .now
                chunksSent = sent + 1
            }
            try connection.write(chunks[sent % chunks.count])
            let now = ContinuousClock.now
            sentLock.withLock { sentAt[sent % windowSize] = now }
            sent += 1
        }
        sentLock.withLock { isSending = false }
        while !isFinished { usleep(1_000) }
        // Ends the reader's wait for more acks.
        connection.shutdownBothWays()
    }

    private var isSending = true
    private var isFinished: Bool { sentLock.withLock { !isSending && latencies.count == chunksSent } }

    private func readAcks() {
        var buffer: [UInt8] = []
        var acknowledgedChunks = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            guard let count = try? chunk.withUnsafeMutableBytes({ try connection.read(into: $0) }), count > 0 else { return }
            buffer.append(contentsOf: chunk[..<count])
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                guard let acknowledged = Self.ackedLine(line) else { continue }
                let now = ContinuousClock.now
                while acknowledgedChunks < sentLock.withLock({ chunksSent }) && lastLine(ofChunk: acknowledgedChunks) <= acknowledged {
                    sentLock.withLock {
                        latencies.append((now - sentAt[acknowledgedChunks % windowSize]).inSeconds)
                        finalAck = line
                    }
                    acknowledgedChunks += 1
                    window.signal()
                }
            }
        }
    }

    /// The connection's line number of the last line of chunk `number` (counted over rounds).
    private func lastLine(ofChunk number: Int) -> Int {
        number / chunks.count * linesPerRound + lastLineOfChunk[number % chunks.count]
    }

    /// N of `{"ack": N, …}`, or nil for other lines.
    private static func ackedLine(_ line: String) -> Int? {
        guard let range = line.range(of: "\"ack\": ") else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
