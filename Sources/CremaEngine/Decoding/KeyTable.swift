#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open-addressing table from key bytes to an integer, probed with a hash of the key's
/// length and its first and last eight bytes, so a JSON key is looked up without building a
/// `String` and without a loop over its bytes (event keys are short).
struct KeyTable: Sendable {
    /// One name: where its bytes are in `nameBytes`, and its value.
    private struct Entry {
        let hash: UInt64
        let start: Int
        let count: Int
        let value: Int
    }

    /// Per slot: the entry index, or -1 when empty.
    private var slots: [Int32]
    private var entries: [Entry] = []
    /// Every name's bytes, one after the other.
    private var nameBytes: [UInt8] = []
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
            slots[slot] = Int32(self.entries.count)
            self.entries.append(Entry(hash: hash, start: nameBytes.count, count: name.count, value: entry.value))
            nameBytes.append(contentsOf: name)
        }
    }

    /// The value stored for `key`, or nil.
    /// - Complexity: O(key length), expected one probe.
    func value(for key: UnsafeRawBufferPointer) -> Int? {
        let hash = Self.hash(key)
        return slots.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                nameBytes.withUnsafeBytes { names in
                    var slot = Int(truncatingIfNeeded: hash) & mask
                    while true {
                        let index = Int(slots[slot])
                        if index < 0 { return nil }
                        let entry = entries[index]
                        if entry.hash == hash, entry.count == key.count,
                           entry.count == 0 || memcmp(names.baseAddress! + entry.start, key.baseAddress!, entry.count) == 0 {
                            return entry.value
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// A hash of the length and the first and last eight bytes (all of them when fewer).
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let count = bytes.count
        var head: UInt64 = 0
        var tail: UInt64 = 0
        if count >= 8 {
            head = bytes.loadUnaligned(as: UInt64.self)
            tail = bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        } else {
            for index in 0..<count { head |= UInt64(bytes[index]) << (8 * index) }
        }
        var hash = (head ^ (tail &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(count)) &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 32
        return hash
    }
}
