/// Keys and values of the `log` column family: one block per micro-batch.
///
/// Key: the block's sequence number, u64 big endian (so keys sort by sequence).
///
/// Value (format version 2): the segments of the micro-batch's ingest batches, each
/// compressed by its submitter (`LogSegment`).
/// ```
/// u8 version = 2
/// i64 LE arrivalTime
/// varint segmentCount, then per segment:
///     u64 LE firstArrival, varint length ‖ producer UTF-8,
///     varint eventCount, varint skippedCount, skippedCount × varint index (ascending),
///     varint length ‖ blocks
/// blocks = varint blockCount, then per block: varint eventCount,
///     varint length ‖ LZ4Block(per event: u64 LE producerSequence, varint length ‖ line)
/// ```
/// A segment's events other than the skipped ones (duplicates, refused events) arrived in
/// order from `firstArrival` on, one arrival number each.
///
/// Format version 1, still read: `u8 version = 1`, then `LZ4Block(payload)` with
/// `payload = varint recordCount`, then per record: u64 LE arrivalSequence, i64 LE
/// arrivalTime, varint length ‖ producer UTF-8, u64 LE producerSequence, varint length ‖ line.
public enum LogCodec {
    /// The block format this version writes.
    public static let formatVersion: UInt8 = 2

    /// The smallest encoded version 1 record: three 8-byte integers and two empty length prefixes.
    private static let minimumVersion1RecordCount = 8 + 8 + 1 + 8 + 1
    /// The smallest encoded segment: its first arrival, four one-byte varints and no data.
    private static let minimumSegmentCount = 8 + 4

    /// One batch's segment as a micro-batch accepted it.
    public struct AcceptedSegment: Sendable {
        /// The batch's events.
        public var segment: LogSegment
        /// The arrival number of its first accepted event; the others follow in order.
        public var firstArrival: UInt64
        /// The positions (ascending) of its events that were not accepted.
        public var skipped: [Int]

        /// Creates an accepted segment.
        public init(segment: LogSegment, firstArrival: UInt64, skipped: [Int]) {
            self.segment = segment
            self.firstArrival = firstArrival
            self.skipped = skipped
        }
    }

    /// The `log` key of the block with sequence number `sequence`.
    public static func key(sequence: UInt64) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(8)
        key.appendUInt64BigEndian(sequence)
        return key
    }

    /// The sequence number of a `log` key.
    ///
    /// - Throws: `StorageError` (`.corruption`) unless the key is 8 bytes.
    public static func sequence(fromKey key: some Collection<UInt8>) throws -> UInt64 {
        guard key.count == 8 else {
            throw StorageError(.corruption, "log key: 8 bytes expected, got \(key.count)")
        }
        return key.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Encodes the accepted segments of one micro-batch, which arrived at `arrivalTime`, as a
    /// versioned block. The segments are compressed already: this copies them.
    ///
    /// - Complexity: O(n) in the total size of the segments.
    public static func encodeBlock(arrivalTime: Int64, segments: [AcceptedSegment]) -> [UInt8] {
        var block: [UInt8] = []
        block.reserveCapacity(
            20 + segments.reduce(0) {
                $0 + 40 + $1.segment.producer.utf8.count + 10 * $1.skipped.count + $1.segment.encodedBlocks.count
            })
        block.append(formatVersion)
        block.appendInt64(arrivalTime)
        block.appendVarint(UInt64(segments.count))
        for accepted in segments {
            block.appendUInt64(accepted.firstArrival)
            block.appendLengthPrefixed(accepted.segment.producer.utf8)
            block.appendVarint(UInt64(accepted.segment.eventCount))
            block.appendVarint(UInt64(accepted.skipped.count))
            for position in accepted.skipped { block.appendVarint(UInt64(position)) }
            block.appendLengthPrefixed(accepted.segment.encodedBlocks)
        }
        return block
    }

    /// Decodes a block made by `encodeBlock`, or by the version 1 encoder of earlier releases.
    ///
    /// - Complexity: O(n) in the uncompressed size of the block.
    /// - Throws: `StorageError` (`.corruption`, `.compression`) for an unknown version or
    ///   malformed data.
    public static func decodeBlock(_ block: UnsafeRawBufferPointer) throws -> [LogRecord] {
        switch block.first {
        case nil: throw StorageError(.corruption, "log block: empty")
        case 1: return try decodeVersion1(UnsafeRawBufferPointer(rebasing: block.dropFirst()))
        case formatVersion: return try decodeSegments(UnsafeRawBufferPointer(rebasing: block.dropFirst()))
        case let version?: throw StorageError(.corruption, "log block: unknown format version \(version)")
        }
    }

    /// What trimming the log needs of a block, read without decompressing its events (format 2).
    public struct BlockSummary: Equatable, Sendable {
        /// When its newest event arrived (epoch ms).
        public var newestArrivalTime: Int64
        /// The arrival number of its last event.
        public var lastArrival: UInt64
    }

    /// The summary of a block made by `encodeBlock` (or by the version 1 encoder, which it
    /// decodes), or nil for a block without events.
    ///
    /// - Complexity: O(number of segments and skipped events); O(n) for a version 1 block.
    /// - Throws: `StorageError` (`.corruption`, `.compression`) for malformed data.
    public static func summary(of block: UnsafeRawBufferPointer) throws -> BlockSummary? {
        guard block.first == formatVersion else {
            let records = try decodeBlock(block)
            guard let last = records.last, let newest = records.map(\.arrivalTime).max() else { return nil }
            return BlockSummary(newestArrivalTime: newest, lastArrival: last.arrivalSequence)
        }
        var summary: BlockSummary?
        try forEachSegment(of: UnsafeRawBufferPointer(rebasing: block.dropFirst())) { arrivalTime, segment in
            if segment.eventCount > segment.skipped.count {
                let lastArrival = segment.firstArrival &+ UInt64(segment.eventCount - segment.skipped.count - 1)
                summary = BlockSummary(newestArrivalTime: arrivalTime, lastArrival: lastArrival)
            }
        }
        return summary
    }

    private static func decodeSegments(_ bytes: UnsafeRawBufferPointer) throws -> [LogRecord] {
        var records: [LogRecord] = []
        try forEachSegment(of: bytes) { arrivalTime, segment in
            guard let producer = String(validating: segment.producer, as: UTF8.self) else {
                throw StorageError(.corruption, "log block: producer name is not UTF-8")
            }
            var arrival = segment.firstArrival
            var skippedSeen = 0
            try LogSegment.forEachEvent(in: segment.blocks, eventCount: segment.eventCount) { position, event in
                if skippedSeen < segment.skipped.count, segment.skipped[skippedSeen] == position {
                    skippedSeen += 1
                    return
                }
                records.append(LogRecord(
                    arrivalSequence: arrival, arrivalTime: arrivalTime, producer: producer,
                    producerSequence: event.producerSequence, line: [UInt8](event.line)))
                arrival &+= 1
            }
        }
        return records
    }

    /// A segment of a format 2 block as stored, its events still compressed.
    private struct StoredSegment {
        var firstArrival: UInt64
        var producer: UnsafeRawBufferPointer
        var eventCount: Int
        /// The positions of the events not accepted, ascending.
        var skipped: [Int]
        var blocks: UnsafeRawBufferPointer
    }

    /// Reads the header of a format 2 block (after its version byte), then calls `body` with
    /// the block's arrival time and each segment, checked to fit.
    private static func forEachSegment(
        of bytes: UnsafeRawBufferPointer, _ body: (_ arrivalTime: Int64, StoredSegment) throws -> Void
    ) throws {
        var reader = ByteReader(bytes, context: "log block")
        let arrivalTime = try reader.readInt64()
        let segmentCount = try reader.readVarint()
        guard segmentCount <= UInt64(reader.remainingCount / minimumSegmentCount) else {
            throw reader.corruption("\(segmentCount) segments cannot fit")
        }
        for _ in 0..<segmentCount {
            let firstArrival = try reader.readUInt64()
            let producer = try reader.readLengthPrefixedBytes()
            let eventCount = try reader.readVarint()
            let skippedCount = try reader.readVarint()
            guard eventCount <= UInt64(LZ4Block.maxInputCount), skippedCount <= eventCount,
                  skippedCount <= UInt64(reader.remainingCount)
            else {
                throw reader.corruption("a segment of \(eventCount) events skipping \(skippedCount) cannot fit")
            }
            var skipped: [Int] = []
            for _ in 0..<skippedCount {
                let position = try reader.readVarint()
                guard position < eventCount, skipped.last.map({ UInt64($0) < position }) ?? true else {
                    throw reader.corruption("skipped event \(position) is out of order or range")
                }
                skipped.append(Int(position))
            }
            try body(arrivalTime, StoredSegment(
                firstArrival: firstArrival, producer: producer, eventCount: Int(eventCount), skipped: skipped,
                blocks: try reader.readLengthPrefixedBytes()))
        }
        guard reader.isAtEnd else { throw reader.corruption("trailing bytes") }
    }

    private static func decodeVersion1(_ compressed: UnsafeRawBufferPointer) throws -> [LogRecord] {
        let payload = try LZ4Block.decompress(compressed)
        return try payload.withUnsafeBytes { payloadBytes in
            var reader = ByteReader(payloadBytes, context: "log block")
            let count = try reader.readVarint()
            guard count <= UInt64(reader.remainingCount / minimumVersion1RecordCount) else {
                throw reader.corruption("\(count) records cannot fit")
            }
            var records: [LogRecord] = []
            records.reserveCapacity(Int(count))
            // Consecutive events usually come from one producer: decode its name once.
            var previousProducerBytes = UnsafeRawBufferPointer(start: nil, count: 0)
            var previousProducer = ""
            for _ in 0..<count {
                let arrivalSequence = try reader.readUInt64()
                let arrivalTime = try reader.readInt64()
                let producerBytes = try reader.readLengthPrefixedBytes()
                if !producerBytes.elementsEqual(previousProducerBytes) {
                    guard let producer = String(validating: producerBytes, as: UTF8.self) else {
                        throw reader.corruption("producer name is not UTF-8")
                    }
                    previousProducer = producer
                    previousProducerBytes = producerBytes
                }
                let producerSequence = try reader.readUInt64()
                let line = try reader.readLengthPrefixedBytes()
                records.append(
                    LogRecord(
                        arrivalSequence: arrivalSequence, arrivalTime: arrivalTime, producer: previousProducer,
                        producerSequence: producerSequence, line: [UInt8](line)))
            }
            guard reader.isAtEnd else { throw reader.corruption("trailing bytes") }
            return records
        }
    }

    /// Decodes a block made by `encodeBlock`.
    ///
    /// - Complexity: O(n) in the uncompressed size of the block.
    /// - Throws: `StorageError` (`.corruption`, `.compression`) for malformed data.
    public static func decodeBlock(_ block: [UInt8]) throws -> [LogRecord] {
        try block.withUnsafeBytes { try decodeBlock($0) }
    }
}
