#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open-addressing table from key bytes to an integer, probed with a 64-bit FNV-1a hash
/// of the bytes, so a JSON key is looked up without building a `String`.
struct KeyTable: Sendable {
    /// Per slot: the entry index, or -1 when empty.
    private var slots: [Int32]
    private var hashes: [UInt64] = []
    /// Every name's bytes, one after the other; entry i spans `nameStarts[i]..<nameStarts[i + 1]`.
    private var nameBytes: [UInt8] = []
    private var nameStarts: [Int] = [0]
    private var values: [Int] = []
    private let mask: Int

    /// Creates a table of `entries` (names must be distinct).
    init(_ entries: [(name: String, value: Int)]) {
        var capacity = 8
        while capacity < entries.count * 2 { capacity *= 2 }
        mask = capacity - 1
        slots = Array(repeating: -1, count: capacity)
        for entry in entries {
            let name = Array(entry.name.utf8)
            let hash = name.withUnsafeBytes { Self.hash($0) }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != -1 { slot = (slot + 1) & mask }
            slots[slot] = Int32(values.count)
            hashes.append(hash)
            nameBytes.append(contentsOf: name)
            nameStarts.append(nameBytes.count)
            values.append(entry.value)
        }
    }

    /// The value stored for `key`, or nil.
    /// - Complexity: O(key length), expected one probe.
    func value(for key: UnsafeRawBufferPointer) -> Int? {
        let hash = Self.hash(key)
        return slots.withUnsafeBufferPointer { slots in
            nameBytes.withUnsafeBytes { names in
                var slot = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let entry = Int(slots[slot])
                    if entry < 0 { return nil }
                    if hashes[entry] == hash {
                        let start = nameStarts[entry]
                        let length = nameStarts[entry + 1] - start
                        if length == key.count, length == 0 || memcmp(names.baseAddress! + start, key.baseAddress!, length) == 0 {
                            return values[entry]
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// FNV-1a over the bytes.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
