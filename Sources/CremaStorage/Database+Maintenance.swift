import CRocksDB

extension Database {
    /// A RocksDB property as text (for example `rocksdb.estimate-num-keys`, `rocksdb.stats`,
    /// `rocksdb.block-cache-usage`), of one column family or, with `nil`, of the database;
    /// `nil` when RocksDB does not know the property.
    public func property(_ name: String, in columnFamily: ColumnFamily? = nil) -> String? {
        let value: UnsafeMutablePointer<CChar>? =
            if let columnFamily {
                rocksdb_property_value_cf(handle, columnFamilyHandle(columnFamily), name)
            } else {
                rocksdb_property_value(handle, name)
            }
        guard let value else { return nil }
        defer { rocksdb_free(value) }
        return String(cString: value)
    }

    /// A numeric RocksDB property (for example `rocksdb.estimate-num-keys`,
    /// `rocksdb.block-cache-usage`), of one column family or, with `nil`, of the database;
    /// `nil` when RocksDB does not know it or it is not numeric.
    public func intProperty(_ name: String, in columnFamily: ColumnFamily? = nil) -> UInt64? {
        var value: UInt64 = 0
        let status =
            if let columnFamily {
                rocksdb_property_int_cf(handle, columnFamilyHandle(columnFamily), name, &value)
            } else {
                rocksdb_property_int(handle, name, &value)
            }
        return status == 0 ? value : nil
    }

    /// Writes every column family's memtable to SST files and waits for it.
    ///
    /// - Complexity: O(n) in the size of the memtables.
    /// - Throws: `StorageError` (`.rocksdb`) with RocksDB's message.
    public func flush() throws {
        let options = rocksdb_flushoptions_create()!
        defer { rocksdb_flushoptions_destroy(options) }
        rocksdb_flushoptions_set_wait(options, 1)
        for columnFamily in ColumnFamily.allCases {
            try StorageError.checkingRocksDB { error in
                rocksdb_flush_cf(handle, options, columnFamilyHandle(columnFamily), error)
            }
        }
    }

    /// Compacts the keys of a column family in `[lowerBound, upperBound)` (`nil`: unbounded)
    /// down to the last level, running the `rows` compaction filter; waits until done.
    ///
    /// - Complexity: O(n) in the size of the range.
    public func compactRange(in columnFamily: ColumnFamily, from lowerBound: [UInt8]? = nil, to upperBound: [UInt8]? = nil) {
        let options = rocksdb_compactoptions_create()!
        defer { rocksdb_compactoptions_destroy(options) }
        // BottommostLevelCompaction::kForce, so the filter also sees rows already at the last level.
        rocksdb_compactoptions_set_bottommost_level_compaction(options, 2)
        let lower = lowerBound ?? []
        let upper = upperBound ?? []
        lower.withUnsafeBytes { lowerBytes in
            upper.withUnsafeBytes { upperBytes in
                rocksdb_compact_range_cf_opt(
                    handle, columnFamilyHandle(columnFamily), options,
                    lowerBound == nil ? nil : lowerBytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                    lowerBytes.count,
                    upperBound == nil ? nil : upperBytes.baseAddress?.assumingMemoryBound(to: CChar.self),
                    upperBytes.count)
            }
        }
    }

    /// RocksDB's statistics report (tickers and histograms, one per line), collected since open.
    public func statistics() -> String? {
        guard let report = rocksdb_options_statistics_get_string(databaseOptions) else { return nil }
        defer { rocksdb_free(report) }
        return String(cString: report)
    }

    /// The value of one statistics ticker, by RocksDB's name (for example
    /// `rocksdb.block.cache.hit`, `rocksdb.bytes.written`), or `nil` if there is no such ticker.
    ///
    /// - Complexity: O(n) in the length of the statistics report.
    public func ticker(_ name: String) -> UInt64? {
        guard let report = statistics() else { return nil }
        // Ticker lines read "<name> COUNT : <value>".
        let prefix = name + " COUNT : "
        for line in report.split(separator: "\n") where line.hasPrefix(prefix) {
            return UInt64(line.dropFirst(prefix.count).prefix { $0.isNumber })
        }
        return nil
    }

    /// Saves a consistent copy of the whole database, as of now, in `directory` (which must
    /// not exist): the memtables are flushed, then the SST files are hard-linked, so it is
    /// fast and takes little space on the same file system. The copy opens as a database of
    /// its own.
    ///
    /// - Throws: `StorageError` (`.rocksdb`) with RocksDB's message.
    public func saveCopy(to directory: String) throws {
        let checkpoint = try StorageError.checkingRocksDB { error in rocksdb_checkpoint_object_create(handle, error) }
        defer { rocksdb_checkpoint_object_destroy(checkpoint) }
        try StorageError.checkingRocksDB { error in
            // A log size of 0 flushes the memtables first, so the copy needs no WAL.
            rocksdb_checkpoint_create(checkpoint, directory, 0, error)
        }
    }
}
