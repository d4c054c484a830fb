import CRocksDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Database {
    /// Reads many keys of one column family in one batched RocksDB call.
    ///
    /// Returns one result per key, in request order: the value, or `nil` for an absent key.
    /// Keys may be unsorted and may repeat; a repeated key is read once and its results share
    /// storage.
    ///
    /// - Complexity: O(n log n) key comparisons to sort a copy of the keys, plus the batched
    ///   lookups and one copy of each distinct value found.
    /// - Throws: `StorageError` (`.rocksdb`) with RocksDB's message if any lookup fails.
    public func batchedMultiGet(_ keys: [[UInt8]], in columnFamily: ColumnFamily) throws -> [[UInt8]?] {
        var results = [[UInt8]?](repeating: nil, count: keys.count)
        try withBatchedValues(of: keys, in: columnFamily) { requestIndices, value in
            let copy = [UInt8](value)
            for requestIndex in requestIndices {
                results[Int(requestIndex)] = copy
            }
        }
        return results
    }

    /// Reads many keys of one column family in one batched RocksDB call and hands each value
    /// found to `body` without copying it.
    ///
    /// `body` is called once for every request index whose key has a value (repeated keys
    /// included), in key order, not request order; absent keys are skipped. The buffer is
    /// valid only during the call.
    ///
    /// - Complexity: O(n log n) key comparisons, plus the batched lookups.
    /// - Throws: `StorageError` (`.rocksdb`) if any lookup fails (then `body` is not called),
    ///   or what `body` throws.
    public func batchedMultiGet(
        _ keys: [[UInt8]], in columnFamily: ColumnFamily,
        _ body: (_ requestIndex: Int, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try withBatchedValues(of: keys, in: columnFamily) { requestIndices, value in
            for requestIndex in requestIndices {
                try body(Int(requestIndex), value)
            }
        }
    }

    /// Sorts and deduplicates a copy of `keys`, reads them with
    /// `rocksdb_batched_multi_get_cf`, and calls `body` once per distinct key found with the
    /// request indices holding that key and the pinned value.
    private func withBatchedValues(
        of keys: [[UInt8]], in columnFamily: ColumnFamily,
        _ body: (_ requestIndices: ArraySlice<Int32>, _ value: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard !keys.isEmpty else { return }
        precondition(keys.count < Int(Int32.max), "too many keys for one multi-get")

        // All keys in one buffer, so that sorting compares with memcmp and RocksDB gets stable
        // pointers without one allocation per key.
        var packed: [UInt8] = []
        packed.reserveCapacity(keys.reduce(0) { $0 + $1.count })
        var starts = [Int](repeating: 0, count: keys.count + 1)
        for (index, key) in keys.enumerated() {
            packed.append(contentsOf: key)
            starts[index + 1] = packed.count
        }

        try packed.withUnsafeBytes { packedBytes in
            let base = packedBytes.baseAddress
            func key(_ index: Int32) -> UnsafeRawBufferPointer {
                let start = starts[Int(index)]
                return UnsafeRawBufferPointer(
                    rebasing: packedBytes[start..<starts[Int(index) + 1]])
            }
            // RocksDB's bytewise order: memcmp over the common prefix, then the shorter first.
            func compare(_ left: Int32, _ right: Int32) -> Int32 {
                let leftKey = key(left)
                let rightKey = key(right)
                let common = min(leftKey.count, rightKey.count)
                if common > 0 {
                    let order = memcmp(leftKey.baseAddress!, rightKey.baseAddress!, common)
                    if order != 0 { return order }
                }
                return Int32(leftKey.count) - Int32(rightKey.count)
            }

            var order = (0..<Int32(keys.count)).map { $0 }
            order.sort { compare($0, $1) < 0 }

            // One slot per distinct key: its first position in `order`.
            var groupStarts: [Int] = [0]
            for position in 1..<order.count where compare(order[position - 1], order[position]) != 0 {
                groupStarts.append(position)
            }
            let distinctCount = groupStarts.count
            groupStarts.append(order.count)

            var keyPointers = [UnsafePointer<CChar>?](repeating: nil, count: distinctCount)
            var keySizes = [Int](repeating: 0, count: distinctCount)
            for slot in 0..<distinctCount {
                let index = Int(order[groupStarts[slot]])
                keyPointers[slot] = base.map { ($0 + starts[index]).assumingMemoryBound(to: CChar.self) }
                keySizes[slot] = starts[index + 1] - starts[index]
            }

            var values = [OpaquePointer?](repeating: nil, count: distinctCount)
            var errors = [UnsafeMutablePointer<CChar>?](repeating: nil, count: distinctCount)
            rocksdb_batched_multi_get_cf(
                handle, readOptions, columnFamilyHandle(columnFamily), distinctCount,
                keyPointers, keySizes, &values, &errors, true)
            defer {
                for value in values {
                    if let value { rocksdb_pinnableslice_destroy(value) }
                }
            }

            var firstError: StorageError?
            for error in errors {
                if let error {
                    let storageError = StorageError(takingRocksDBMessage: error)
                    if firstError == nil { firstError = storageError }
                }
            }
            if let firstError { throw firstError }

            for slot in 0..<distinctCount {
                guard let value = values[slot] else { continue }
                var length = 0
                let bytes = rocksdb_pinnableslice_value(value, &length)
                try body(
                    order[groupStarts[slot]..<groupStarts[slot + 1]],
                    UnsafeRawBufferPointer(start: bytes, count: length))
            }
        }
    }
}
