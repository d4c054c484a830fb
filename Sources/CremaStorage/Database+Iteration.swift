import CRocksDB

extension Database {
    /// Visits the entries of a column family with `lowerBound <= key < upperBound`, in key
    /// order, until `body` returns `false`.
    ///
    /// The buffers handed to `body` are valid only during the call. The scan sees a consistent
    /// view of the data as of its start.
    ///
    /// - Parameters:
    ///   - columnFamily: The column family to scan.
    ///   - lowerBound: The first key to visit, inclusive; `nil` starts at the first key.
    ///   - upperBound: The key to stop before, exclusive; `nil` scans to the end.
    ///   - body: Receives each key and value; returns whether to continue.
    /// - Complexity: O(log n + k) for k entries visited.
    /// - Throws: `StorageError` (`.rocksdb`) if the iterator fails, or what `body` throws.
    public func scan(
        in columnFamily: ColumnFamily, from lowerBound: [UInt8]? = nil, to upperBound: [UInt8]? = nil,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try withOptionalBytes(upperBound) { upperBytes in
            let options = rocksdb_readoptions_create()!
            defer { rocksdb_readoptions_destroy(options) }
            if let upperBytes {
                // RocksDB keeps only a pointer to the bound, valid for this closure's scope.
                rocksdb_readoptions_set_iterate_upper_bound(
                    options, upperBytes.baseAddress?.assumingMemoryBound(to: CChar.self), upperBytes.count)
            }
            let iterator = rocksdb_create_iterator_cf(handle, options, columnFamilyHandle(columnFamily))!
            defer { rocksdb_iter_destroy(iterator) }
            if let lowerBound {
                lowerBound.withUnsafeBytes { lowerBytes in
                    rocksdb_iter_seek(
                        iterator, lowerBytes.baseAddress?.assumingMemoryBound(to: CChar.self), lowerBytes.count)
                }
            } else {
                rocksdb_iter_seek_to_first(iterator)
            }
            while rocksdb_iter_valid(iterator) != 0 {
                var keyLength = 0
                var valueLength = 0
                let key = rocksdb_iter_key(iterator, &keyLength)
                let value = rocksdb_iter_value(iterator, &valueLength)
                let shouldContinue = try body(
                    UnsafeRawBufferPointer(start: key, count: keyLength),
                    UnsafeRawBufferPointer(start: value, count: valueLength))
                guard shouldContinue else { return }
                rocksdb_iter_next(iterator)
            }
            try StorageError.checkingRocksDB { error in rocksdb_iter_get_error(iterator, error) }
        }
    }

    /// The greatest key of a column family (RocksDB's `SeekToLast`), or with `bound` the
    /// greatest key not after it (`SeekForPrev`); `nil` when there is none. For example the
    /// highest sequence number in `log`, or the log block holding a given arrival number.
    ///
    /// - Complexity: O(log n).
    /// - Throws: `StorageError` (`.rocksdb`) if the iterator fails.
    public func lastKey(in columnFamily: ColumnFamily, notAfter bound: [UInt8]? = nil) throws -> [UInt8]? {
        let iterator = rocksdb_create_iterator_cf(handle, readOptions, columnFamilyHandle(columnFamily))!
        defer { rocksdb_iter_destroy(iterator) }
        if let bound {
            bound.withUnsafeBytes { boundBytes in
                rocksdb_iter_seek_for_prev(iterator, boundBytes.baseAddress?.assumingMemoryBound(to: CChar.self), boundBytes.count)
            }
        } else {
            rocksdb_iter_seek_to_last(iterator)
        }
        guard rocksdb_iter_valid(iterator) != 0 else {
            try StorageError.checkingRocksDB { error in rocksdb_iter_get_error(iterator, error) }
            return nil
        }
        var keyLength = 0
        let key = rocksdb_iter_key(iterator, &keyLength)
        return [UInt8](UnsafeRawBufferPointer(start: key, count: keyLength))
    }

    /// Deletes every key of a column family with `lowerBound <= key < upperBound` (one range
    /// tombstone; space is reclaimed by compaction), for example to trim old log blocks.
    ///
    /// - Complexity: O(1) to write the tombstone; reads skip it in O(log n).
    /// - Throws: `StorageError` (`.rocksdb`) with RocksDB's message.
    public func deleteRange(in columnFamily: ColumnFamily, from lowerBound: [UInt8], to upperBound: [UInt8]) throws {
        try lowerBound.withUnsafeBytes { lowerBytes in
            try upperBound.withUnsafeBytes { upperBytes in
                try StorageError.checkingRocksDB { error in
                    rocksdb_delete_range_cf(
                        handle, writeOptions, columnFamilyHandle(columnFamily),
                        lowerBytes.baseAddress?.assumingMemoryBound(to: CChar.self), lowerBytes.count,
                        upperBytes.baseAddress?.assumingMemoryBound(to: CChar.self), upperBytes.count, error)
                }
            }
        }
    }
}

/// Calls `body` with the bytes of `bytes`, or with `nil`.
private func withOptionalBytes<Result>(
    _ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws -> Result
) rethrows -> Result {
    guard let bytes else { return try body(nil) }
    return try bytes.withUnsafeBytes { try body($0) }
}
