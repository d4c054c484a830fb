import CremaAggregation
import CremaStorage

/// The encoded entity keys of one read, in one buffer: built once per group and request
/// instead of one array per id. (Their hashes are computed where the keys are looked up,
/// by each core for its share.)
struct KeyBatch {
    /// The keys, one after another.
    private(set) var bytes: [UInt8] = []
    /// Where each key ends in `bytes`.
    private(set) var ends: [Int] = []

    /// The number of keys.
    var count: Int { ends.count }

    /// Reserves room for `count` keys of about `bytesPerKey` bytes.
    init(reservingCapacity count: Int, bytesPerKey: Int) {
        bytes.reserveCapacity(count * bytesPerKey)
        ends.reserveCapacity(count)
    }

    /// The keys of a string-keyed group for `texts`, encoded straight from their UTF-8 into
    /// buffers sized once.
    /// - Complexity: O(total UTF-8 bytes).
    init(stringKeysOf texts: PackedTexts) {
        guard !texts.isEmpty else { return }
        texts.withUTF8 { utf8, textEnds in
            let count = textEnds.count
            var byteCount = 0
            var textStart = 0
            for textEnd in textEnds {
                byteCount += EntityKeyCodec.stringPartSize(utf8Count: textEnd - textStart)
                textStart = textEnd
            }
            var keyEnds: [Int] = []
            bytes = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
                keyEnds = [Int](unsafeUninitializedCapacity: count) { ends, endsInitialized in
                    let base = UnsafeMutableRawPointer(buffer.baseAddress!)
                    var keyStart = 0
                    var textStart = 0
                    for position in 0..<count {
                        let text = UnsafeRawBufferPointer(rebasing: utf8[textStart..<textEnds[position]])
                        keyStart += EntityKeyCodec.writeStringPart(text, to: base + keyStart)
                        ends[position] = keyStart
                        textStart = textEnds[position]
                    }
                    endsInitialized = count
                }
                initialized = byteCount
            }
            ends = keyEnds
        }
    }

    /// Appends one key given as its parts.
    mutating func append(_ parts: [EntityKeyPart]) {
        EntityKeyCodec.append(parts, to: &bytes)
        ends.append(bytes.count)
    }

    /// Appends one key of a single part.
    mutating func append(_ part: EntityKeyPart) {
        EntityKeyCodec.append(part, to: &bytes)
        ends.append(bytes.count)
    }

    /// Appends the key made of the string and int fields of `fields` at `keyFieldIndices`, in
    /// order; false, appending nothing, when one of them is null.
    ///
    /// - Complexity: O(size of the key).
    mutating func appendKey(of fields: [FieldValue], at keyFieldIndices: [Int]) -> Bool {
        let start = bytes.count
        for index in keyFieldIndices {
            switch fields[index] {
            case .string(let value): EntityKeyCodec.append(.string(value), to: &bytes)
            case .int(let value): EntityKeyCodec.append(.int(value), to: &bytes)
            default:
                bytes.removeSubrange(start...)
                return false
            }
        }
        ends.append(bytes.count)
        return true
    }

    /// The stored key of `position` as an array (for RocksDB reads of absent rows).
    func key(at position: Int) -> [UInt8] {
        Array(bytes[(position == 0 ? 0 : ends[position - 1])..<ends[position]])
    }

    /// Calls `body` with a function giving the bytes of the key at a position.
    func withKeys<Result>(_ body: (_ keyAt: (Int) -> UnsafeRawBufferPointer) -> Result) -> Result {
        bytes.withUnsafeBytes { bytes in
            ends.withUnsafeBufferPointer { ends in
                body { UnsafeRawBufferPointer(rebasing: bytes[($0 == 0 ? 0 : ends[$0 - 1])..<ends[$0]]) }
            }
        }
    }
}
