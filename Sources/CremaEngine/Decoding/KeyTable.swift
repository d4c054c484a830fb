#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open-addressing table from key bytes to an integer. Each entry holds its name's first
/// sixteen bytes as two words, so a JSON key (event keys are short) is looked up without
/// building a `String`, without a loop over its bytes and, up to sixteen bytes, without `memcmp`.
struct KeyTable: Sendable {
    /// One name, or an empty place (`count` < 0).
    private struct Entry {
        /// The name's bytes 0..<8 and 8..<16, little-endian, zero past its end.
        var head: UInt64
        var tail: UInt64
        var count: Int32
        /// Where a name longer than sixteen bytes is in `longNames`.
        var longStart: Int32
        var value: Int

        static let empty = Entry(head: 0, tail: 0, count: -1, longStart: 0, value: 0)
    }

    /// The open-addressing table; its count is a power of two, at most half full.
    private var entries: [Entry]
    /// The bytes of the names longer than sixteen bytes, one after the other.
    private var longNames: [UInt8] = []
    private let mask: Int

    /// Creates a table of `names` and their values (names must be distinct).
    init(_ names: [(name: String, value: Int)]) {
        var capacity = 8
        while capacity < names.count * 2 { capacity *= 2 }
        mask = capacity - 1
        entries = Array(repeating: .empty, count: capacity)
        for (name, value) in names {
            let bytes = Array(name.utf8)
            let (head, tail) = bytes.withUnsafeBytes { Self.words(of: $0) }
            var slot = Self.hash(head, tail, bytes.count) & mask
            while entries[slot].count >= 0 { slot = (slot + 1) & mask }
            entries[slot] = Entry(head: head, tail: tail, count: Int32(bytes.count), longStart: Int32(longNames.count), value: value)
            if bytes.count > 16 { longNames.append(contentsOf: bytes) }
        }
    }

    /// The value stored for `key`, or nil.
    /// - Complexity: O(1) for keys of up to sixteen bytes, expected one probe.
    func value(for key: UnsafeRawBufferPointer) -> Int? {
        let (head, tail) = Self.words(of: key)
        var slot = Self.hash(head, tail, key.count) & mask
        return entries.withUnsafeBufferPointer { entries in
            while true {
                let entry = entries[slot]
                if entry.count < 0 { return nil }
                if entry.head == head, entry.tail == tail, Int(entry.count) == key.count,
                   key.count <= 16 || longNames.withUnsafeBytes({ memcmp($0.baseAddress! + Int(entry.longStart), key.baseAddress!, key.count) == 0 }) {
                    return entry.value
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Bytes 0..<8 and 8..<16 of `bytes` as little-endian words, zero past the end, loaded in
    /// at most two overlapping reads per word.
    @inline(__always)
    private static func words(of bytes: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let count = bytes.count
        if count >= 16 {
            return (word(bytes, at: 0), word(bytes, at: 8))
        }
        if count >= 8 {
            return (word(bytes, at: 0), count == 8 ? 0 : word(bytes, at: count - 8) >> UInt64(8 * (16 - count)))
        }
        if count >= 4 {
            let low = UInt64(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)))
            return (low | high << UInt64(8 * (count - 4)), 0)
        }
        var head: UInt64 = 0
        for index in 0..<count { head |= UInt64(bytes[index]) << UInt64(8 * index) }
        return (head, 0)
    }

    @inline(__always)
    private static func word(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always)
    private static func hash(_ head: UInt64, _ tail: UInt64, _ count: Int) -> Int {
        var hash = (head ^ (tail &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(count)) &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 32
        return Int(truncatingIfNeeded: hash)
    }
}
