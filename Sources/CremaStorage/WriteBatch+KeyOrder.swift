#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension WriteBatch {
    /// Adds puts of `entries` in one column family, in ascending bytewise key order (RocksDB's
    /// default comparator). A memtable insert starts its skip-list search where the previous one
    /// ended, so keys that follow one another cost a few comparisons instead of a search from the
    /// top: what a checkpoint's chunk of rows gains by sorting first.
    ///
    /// - Precondition: keys are distinct.
    /// - Complexity: O(n log n) key comparisons, plus copying every key and value.
    public func putInKeyOrder(_ entries: [(key: [UInt8], value: [UInt8])], in columnFamily: ColumnFamily) {
        for index in BytewiseOrder.sortedIndices(of: entries.map(\.key)) {
            put(entries[index].key, value: entries[index].value, in: columnFamily)
        }
    }
}

/// RocksDB's default key order: bytewise, a proper prefix first.
public enum BytewiseOrder {
    /// Whether `left` sorts before `right`.
    ///
    /// - Complexity: O(min(left.count, right.count)).
    public static func precedes(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        let common = min(left.count, right.count)
        let order = left.withUnsafeBytes { leftBytes in
            right.withUnsafeBytes { rightBytes in
                common == 0 ? 0 : memcmp(leftBytes.baseAddress!, rightBytes.baseAddress!, common)
            }
        }
        return order != 0 ? order < 0 : left.count < right.count
    }

    /// The positions of `keys` in ascending bytewise order. Sorts 16-byte big-endian prefixes
    /// (zero padded), comparing whole keys only where prefixes tie, so most comparisons are two
    /// integer compares instead of a `memcmp` through two arrays.
    ///
    /// - Complexity: O(n log n).
    public static func sortedIndices(of keys: [[UInt8]]) -> [Int] {
        var order: [(high: UInt64, low: UInt64, index: Int)] = keys.indices.map { index in
            let (high, low) = prefix(of: keys[index])
            return (high, low, index)
        }
        keys.withUnsafeBufferPointer { keys in
            order.sort { left, right in
                if left.high != right.high { return left.high < right.high }
                if left.low != right.low { return left.low < right.low }
                return precedes(keys[left.index], keys[right.index])
            }
        }
        return order.map(\.index)
    }

    /// The first 16 bytes of `key` as two big-endian integers, zero padded.
    private static func prefix(of key: [UInt8]) -> (UInt64, UInt64) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        key.withUnsafeBufferPointer { bytes in
            for position in 0..<16 {
                let byte = position < bytes.count ? UInt64(bytes[position]) : 0
                if position < 8 { high = high << 8 | byte } else { low = low << 8 | byte }
            }
        }
        return (high, low)
    }
}
