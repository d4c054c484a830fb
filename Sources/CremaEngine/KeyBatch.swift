import CremaStorage

/// The encoded entity keys of one read, in one buffer, with their hashes: built once per group
/// and request instead of one array per id.
struct KeyBatch {
    /// The keys, one after another.
    private(set) var bytes: [UInt8] = []
    /// Where each key ends in `bytes`.
    private(set) var ends: [Int] = []
    /// Each key's `KeyHash`.
    private(set) var hashes: [UInt64] = []

    /// The number of keys.
    var count: Int { ends.count }

    /// Reserves room for `count` keys of about `bytesPerKey` bytes.
    init(reservingCapacity count: Int, bytesPerKey: Int) {
        bytes.reserveCapacity(count * bytesPerKey)
        ends.reserveCapacity(count)
        hashes.reserveCapacity(count)
    }

    /// Appends one key given as its parts.
    mutating func append(_ parts: [EntityKeyPart]) {
        let start = bytes.count
        EntityKeyCodec.append(parts, to: &bytes)
        finishKey(from: start)
    }

    /// Appends one key of a single part.
    mutating func append(_ part: EntityKeyPart) {
        let start = bytes.count
        EntityKeyCodec.append(part, to: &bytes)
        finishKey(from: start)
    }

    /// Records the key written to `bytes` from `start` on.
    private mutating func finishKey(from start: Int) {
        ends.append(bytes.count)
        hashes.append(bytes.withUnsafeBytes { KeyHash.hash(UnsafeRawBufferPointer(rebasing: $0[start...])) })
    }

    /// The stored key of `position` as an array (for RocksDB reads of absent rows).
    func key(at position: Int) -> [UInt8] {
        Array(bytes[(position == 0 ? 0 : ends[position - 1])..<ends[position]])
    }

    /// Calls `body` with a function giving the bytes of the key at a position, and the hashes.
    func withKeys<Result>(
        _ body: (_ keyAt: (Int) -> UnsafeRawBufferPointer, _ hashes: UnsafeBufferPointer<UInt64>) -> Result
    ) -> Result {
        bytes.withUnsafeBytes { bytes in
            ends.withUnsafeBufferPointer { ends in
                hashes.withUnsafeBufferPointer { hashes in
                    body({ UnsafeRawBufferPointer(rebasing: bytes[($0 == 0 ? 0 : ends[$0 - 1])..<ends[$0]]) }, hashes)
                }
            }
        }
    }
}
