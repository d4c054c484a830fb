/// Typed access to the `meta` column family: producer sequences, the next arrival sequence,
/// and registered spec versions.
///
/// Getters read a database; putters add to a `WriteBatch`, so what they record commits in
/// the same atomic batch as the rows and log blocks it describes.
///
/// Keys and values:
/// ```
/// producer/<name UTF-8>    → u64 LE: the producer's highest settled seq
/// arrival/next             → u64 LE: the arrival sequence the next event gets
/// rows/checkpoint          → u64 LE: the stored rows reflect every event with a lower arrival
/// spec/<u64 big endian>    → the spec's bytes as registered
/// spec/current             → u64 LE: the version being served
/// ```
public enum MetaStore {
    /// The key prefix of producer sequences.
    private static let producerPrefix = Array("producer/".utf8)
    /// The key of the next arrival sequence.
    private static let nextArrivalKey = Array("arrival/next".utf8)
    /// The key of the rows checkpoint.
    private static let checkpointKey = Array("rows/checkpoint".utf8)
    /// The key prefix of spec versions (and of `spec/current`).
    private static let specPrefix = Array("spec/".utf8)
    /// The key holding the current spec version.
    private static let currentSpecKey = Array("spec/current".utf8)

    /// The highest settled `seq` of a producer; 0 for a producer never seen.
    ///
    /// - Throws: `StorageError` (`.rocksdb` or `.corruption`).
    public static func producerSequence(for producer: String, in database: Database) throws -> UInt64 {
        guard let value = try database.get(producerPrefix + Array(producer.utf8), in: .meta) else { return 0 }
        return try decodeUInt64(value, what: "sequence of producer \(producer)")
    }

    /// Every producer's highest settled `seq`, by producer name.
    ///
    /// - Complexity: O(p) in the number of producers.
    /// - Throws: `StorageError` (`.rocksdb` or `.corruption`).
    public static func producerSequences(in database: Database) throws -> [String: UInt64] {
        var sequences: [String: UInt64] = [:]
        try database.scan(in: .meta, from: producerPrefix, to: prefixEnd(producerPrefix)) { key, value in
            guard let name = String(validating: key.dropFirst(producerPrefix.count), as: UTF8.self) else {
                throw StorageError(.corruption, "meta: producer name is not UTF-8")
            }
            sequences[name] = try decodeUInt64(value, what: "sequence of producer \(name)")
            return true
        }
        return sequences
    }

    /// Adds to `batch` the write of a producer's highest settled `seq`.
    public static func putProducerSequence(_ sequence: UInt64, for producer: String, into batch: WriteBatch) {
        batch.put(producerPrefix + Array(producer.utf8), value: encodeUInt64(sequence), in: .meta)
    }

    /// The arrival sequence the next event gets; 0 in a new database.
    ///
    /// - Throws: `StorageError` (`.rocksdb` or `.corruption`).
    public static func nextArrival(in database: Database) throws -> UInt64 {
        guard let value = try database.get(nextArrivalKey, in: .meta) else { return 0 }
        return try decodeUInt64(value, what: "next arrival sequence")
    }

    /// Adds to `batch` the write of the arrival sequence the next event gets.
    public static func putNextArrival(_ sequence: UInt64, into batch: WriteBatch) {
        batch.put(nextArrivalKey, value: encodeUInt64(sequence), in: .meta)
    }

    /// The rows checkpoint: the stored rows reflect every event whose arrival sequence is lower;
    /// 0 in a new database.
    ///
    /// - Throws: `StorageError` (`.rocksdb` or `.corruption`).
    public static func checkpoint(in database: Database) throws -> UInt64 {
        guard let value = try database.get(checkpointKey, in: .meta) else { return 0 }
        return try decodeUInt64(value, what: "rows checkpoint")
    }

    /// Adds to `batch` the write of the rows checkpoint (in the batch that writes those rows).
    public static func putCheckpoint(_ sequence: UInt64, into batch: WriteBatch) {
        batch.put(checkpointKey, value: encodeUInt64(sequence), in: .meta)
    }

    /// The bytes of a registered spec version, or `nil` if it was never registered.
    ///
    /// - Throws: `StorageError` (`.rocksdb`).
    public static func spec(version: UInt64, in database: Database) throws -> [UInt8]? {
        try database.get(specKey(version: version), in: .meta)
    }

    /// Adds to `batch` the registration of a spec version's bytes.
    public static func putSpec(_ bytes: [UInt8], version: UInt64, into batch: WriteBatch) {
        batch.put(specKey(version: version), value: bytes, in: .meta)
    }

    /// Every registered spec version, ascending.
    ///
    /// - Complexity: O(v) in the number of versions.
    /// - Throws: `StorageError` (`.rocksdb`).
    public static func specVersions(in database: Database) throws -> [UInt64] {
        var versions: [UInt64] = []
        let versionKeyCount = specPrefix.count + 8
        try database.scan(in: .meta, from: specPrefix, to: prefixEnd(specPrefix)) { key, _ in
            // `spec/current` shares the prefix; version keys are exactly 8 bytes after it.
            if key.count == versionKeyCount {
                versions.append(key.dropFirst(specPrefix.count).reduce(0) { $0 << 8 | UInt64($1) })
            }
            return true
        }
        return versions
    }

    /// The spec version being served, or `nil` before one is set.
    ///
    /// - Throws: `StorageError` (`.rocksdb` or `.corruption`).
    public static func currentSpecVersion(in database: Database) throws -> UInt64? {
        guard let value = try database.get(currentSpecKey, in: .meta) else { return nil }
        return try decodeUInt64(value, what: "current spec version")
    }

    /// Adds to `batch` the write of the spec version being served.
    public static func putCurrentSpecVersion(_ version: UInt64, into batch: WriteBatch) {
        batch.put(currentSpecKey, value: encodeUInt64(version), in: .meta)
    }

    /// The key of a spec version: `spec/` ‖ u64 big endian, so versions sort numerically.
    private static func specKey(version: UInt64) -> [UInt8] {
        var key = specPrefix
        key.appendUInt64BigEndian(version)
        return key
    }

    /// The smallest key after every key starting with `prefix` (its last byte incremented;
    /// the prefixes here are ASCII, so that byte is below 0xFF).
    private static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        end[end.count - 1] += 1
        return end
    }

    /// 8 little-endian bytes.
    private static func encodeUInt64(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendUInt64(value)
        return bytes
    }

    /// Reads 8 little-endian bytes; `what` names the value in the error.
    private static func decodeUInt64(_ bytes: some Collection<UInt8>, what: String) throws -> UInt64 {
        guard bytes.count == 8 else {
            throw StorageError(.corruption, "meta: \(what) has \(bytes.count) bytes, 8 expected")
        }
        return bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
