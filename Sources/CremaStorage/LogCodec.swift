/// Keys and values of the `log` column family: one block per micro-batch.
///
/// Key: the block's sequence number, u64 big endian (so keys sort by sequence).
///
/// Value (format version 1):
/// ```
/// u8 version = 1
/// LZ4Block(payload)
/// payload = varint recordCount, then per record:
///     u64 LE arrivalSequence, i64 LE arrivalTime,
///     varint length ‖ producer UTF-8, u64 LE producerSequence,
///     varint length ‖ line bytes
/// ```
public enum LogCodec {
    /// The block format this version writes.
    public static let formatVersion: UInt8 = 1

    /// The smallest encoded record: three 8-byte integers and two empty length prefixes.
    private static let minimumRecordCount = 8 + 8 + 1 + 8 + 1

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

    /// Encodes the records of one micro-batch as a versioned, LZ4-compressed block.
    ///
    /// - Complexity: O(n) in the total size of the records.
    public static func encodeBlock(_ records: [LogRecord]) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(
            10 + records.reduce(0) { $0 + minimumRecordCount + 18 + $1.producer.utf8.count + $1.line.count })
        payload.appendVarint(UInt64(records.count))
        for record in records {
            payload.appendUInt64(record.arrivalSequence)
            payload.appendInt64(record.arrivalTime)
            payload.appendLengthPrefixed(record.producer.utf8)
            payload.appendUInt64(record.producerSequence)
            payload.appendLengthPrefixed(record.line)
        }
        return [formatVersion] + LZ4Block.compress(payload)
    }

    /// Decodes a block made by `encodeBlock`.
    ///
    /// - Complexity: O(n) in the uncompressed size of the block.
    /// - Throws: `StorageError` (`.corruption`, `.compression`) for an unknown version or
    ///   malformed data.
    public static func decodeBlock(_ block: UnsafeRawBufferPointer) throws -> [LogRecord] {
        guard let version = block.first else {
            throw StorageError(.corruption, "log block: empty")
        }
        guard version == formatVersion else {
            throw StorageError(.corruption, "log block: unknown format version \(version)")
        }
        let payload = try LZ4Block.decompress(UnsafeRawBufferPointer(rebasing: block.dropFirst()))
        return try payload.withUnsafeBytes { payloadBytes in
            var reader = ByteReader(payloadBytes, context: "log block")
            let count = try reader.readVarint()
            guard count <= UInt64(reader.remainingCount / minimumRecordCount) else {
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
