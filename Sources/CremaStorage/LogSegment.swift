/// The raw events of one ingest batch as the event log keeps them: each event's producer `seq`
/// and line, LZ4-compressed in blocks of about 64 kB. The submitter builds it as it decodes the
/// batch, off the writer thread and mostly while an earlier batch is being applied, so that
/// compressing the log takes no time from applying events; a log block holds the segments of
/// the batches of one micro-batch (`LogCodec`).
public struct LogSegment: Sendable, Equatable {
    /// The producer named in the batch's hello; empty for an anonymous connection.
    public let producer: String
    /// The number of events.
    public let eventCount: Int
    /// `varint blockCount`, then per block: varint eventCount, varint length ‖ LZ4Block(per
    /// event: u64 LE producerSequence, varint length ‖ line).
    let encodedBlocks: [UInt8]

    /// Collects the events of one batch, compressing them a block at a time.
    public struct Builder: Sendable {
        /// The uncompressed size at which a block is compressed.
        static let blockBytes = 64 << 10
        /// The events of the block being filled.
        private var payload: [UInt8] = []
        private var payloadEventCount = 0
        /// The blocks compressed so far, each as `encodedBlocks` holds it.
        private var blocks: [UInt8] = []
        private var blockCount = 0
        /// The number of events added.
        public private(set) var eventCount = 0

        /// An empty builder.
        public init() {}

        /// Adds an event: its producer `seq` (0 without a producer) and its raw line.
        /// - Complexity: amortized O(line length).
        public mutating func append(producerSequence: UInt64, line: UnsafeRawBufferPointer) {
            if payload.isEmpty { payload.reserveCapacity(Self.blockBytes + 1_024) }
            payload.appendUInt64(producerSequence)
            payload.appendLengthPrefixed(line)
            payloadEventCount += 1
            eventCount += 1
            if payload.count >= Self.blockBytes { sealBlock() }
        }

        private mutating func sealBlock() {
            Self.appendBlock(of: payload, eventCount: payloadEventCount, to: &blocks)
            blockCount += 1
            payload.removeAll(keepingCapacity: true)
            payloadEventCount = 0
        }

        /// Appends a block as `encodedBlocks` holds it: its event count, then its events compressed.
        private static func appendBlock(of payload: [UInt8], eventCount: Int, to blocks: inout [UInt8]) {
            blocks.appendVarint(UInt64(eventCount))
            blocks.appendLengthPrefixed(LZ4Block.compress(payload))
        }

        /// The segment of the events added; compresses the events not compressed yet.
        /// - Complexity: O(length of the lines added since the last full block, and of the
        ///   compressed blocks, which it copies once).
        public func finish(producer: String) -> LogSegment {
            var encoded: [UInt8] = []
            encoded.reserveCapacity(20 + blocks.count + payload.count / 2)
            encoded.appendVarint(UInt64(blockCount + (payloadEventCount > 0 ? 1 : 0)))
            encoded.append(contentsOf: blocks)
            if payloadEventCount > 0 {
                Self.appendBlock(of: payload, eventCount: payloadEventCount, to: &encoded)
            }
            return LogSegment(producer: producer, eventCount: eventCount, encodedBlocks: encoded)
        }
    }

    /// The events of a segment as stored: the producer `seq` and the line of each.
    typealias Event = (producerSequence: UInt64, line: UnsafeRawBufferPointer)

    /// Decompresses a segment's `encodedBlocks` and calls `body` with each of its `eventCount`
    /// events in order.
    ///
    /// - Throws: `StorageError` (`.corruption`, `.compression`) for malformed data, or what `body` throws.
    static func forEachEvent(
        in encodedBlocks: UnsafeRawBufferPointer, eventCount: Int, _ body: (_ index: Int, Event) throws -> Void
    ) throws {
        var blocks = ByteReader(encodedBlocks, context: "log segment")
        let blockCount = try blocks.readVarint()
        // A block takes at least 2 bytes: its event count and its length.
        guard blockCount <= UInt64(blocks.remainingCount / 2) else {
            throw blocks.corruption("\(blockCount) blocks cannot fit")
        }
        var index = 0
        for _ in 0..<blockCount {
            let blockEventCount = try blocks.readVarint()
            guard blockEventCount <= UInt64(eventCount - index) else {
                throw blocks.corruption("a block of \(blockEventCount) events exceeds the segment's \(eventCount)")
            }
            let payload = try LZ4Block.decompress(try blocks.readLengthPrefixedBytes())
            try payload.withUnsafeBytes { bytes in
                var reader = ByteReader(bytes, context: "log segment block")
                for _ in 0..<blockEventCount {
                    let sequence = try reader.readUInt64()
                    try body(index, (sequence, try reader.readLengthPrefixedBytes()))
                    index += 1
                }
                guard reader.isAtEnd else { throw reader.corruption("trailing bytes") }
            }
        }
        guard index == eventCount, blocks.isAtEnd else {
            throw blocks.corruption("\(blockCount) blocks of \(index) events for a segment of \(eventCount)")
        }
    }
}
