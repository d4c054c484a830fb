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

    /// The keys of a string-keyed group for `texts`, encoded straight from their UTF-8 into
    /// buffers sized once.
    /// - Complexity: O(total UTF-8 bytes).
    init(stringKeysOf texts: PackedTexts) {
        texts.withUTF8 { utf8, textEnds in
            let count = textEnds.count
            var byteCount = 0
            var textStart = 0
            for textEnd in textEnds {
                byteCount += EntityKeyCodec.stringPartSize(utf8Count: textEnd - textStart)
                textStart = textEnd
            }
            var keyEnds: [Int] = []
            var keyHashes: [UInt64] = []
            bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
                keyEnds = [Int](unsafeUninitializedCapacity: count) { ends, endsInitialized in
                    keyHashes = [UInt64](unsafeUninitializedCapacity: count) { hashes, hashesInitialized in
                        let base = UnsafeMutableRawPointer(buffer.baseAddress!)
                        var keyStart = 0
                        var textStart = 0
                        for position in 0..<count {
                            let text = UnsafeRawBufferPointer(rebasing: utf8[textStart..<textEnds[position]])
                            let keyEnd = keyStart + EntityKeyCodec.writeStringPart(text, to: base + keyStart)
                            ends[position] = keyEnd
                            hashes[position] = KeyHash.hash(UnsafeRawBufferPointer(start: base + keyStart, count: keyEnd - keyStart))
                            keyStart = keyEnd
                            textStart = textEnds[position]
                        }
                        hashesInitialized = count
                    }
                    endsInitialized = count
                }
                initialized = byteCount
            }
            ends = keyEnds
            hashes = keyHashes
        }
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
