import CRocksDB
import Synchronization

/// A RocksDB database with Crema's column families (`rows`, `log`, `meta`).
///
/// The sole owner of the `rocksdb_t*`, its column-family handles, options, caches and the
/// optional row compaction filter; all are destroyed in `deinit`.
///
/// `@unchecked Sendable`: RocksDB's `DB` handle and column-family handles are thread-safe
/// (concurrent reads, writes and iterators from any thread), the stored read and write options
/// are only read after `init`, and the only mutable state, whether it is closed, is behind a mutex.
public final class Database: @unchecked Sendable {
    /// Decides, during compaction of `rows`, whether a row is removed (`true`) or kept.
    ///
    /// Called on RocksDB's background threads, possibly concurrently; the buffers are valid
    /// only during the call.
    public typealias RowFilter = @Sendable (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool

    /// The directory the database lives in.
    public let path: String

    /// The `rocksdb_t*`.
    let handle: OpaquePointer
    /// Column-family handles indexed by `ColumnFamily.rawValue`.
    private let columnFamilyHandles: [OpaquePointer]
    /// The handle of RocksDB's `default` column family (required to open, otherwise unused).
    private let defaultColumnFamilyHandle: OpaquePointer
    /// The database-wide options; they also hold the statistics object.
    let databaseOptions: OpaquePointer
    /// Per-column-family options: `default`, then `rows`, `log`, `meta`.
    private let columnFamilyOptions: [OpaquePointer]
    /// The LRU block cache shared by all column families.
    private let blockCache: OpaquePointer
    /// The row cache, when configured.
    private let rowCache: OpaquePointer?
    /// The compaction filter on `rows`, when a `RowFilter` was given; outlives the DB handle.
    private let compactionFilter: OpaquePointer?
    /// Keeps the `RowFilter` closure alive for the compaction filter, which does not own it.
    private let rowFilterBox: RowFilterBox?
    /// Default read options.
    let readOptions: OpaquePointer
    /// Write options without fsync (the WAL is written, not synced).
    let writeOptions: OpaquePointer
    /// Write options with fsync of the WAL.
    private let syncWriteOptions: OpaquePointer
    /// Write options without the WAL.
    private let unloggedWriteOptions: OpaquePointer

    /// Opens (or creates) the database at `path` with the `rows`, `log` and `meta` column
    /// families, creating missing column families.
    ///
    /// - Parameters:
    ///   - path: The database directory.
    ///   - options: Caches, filters, compression and background work.
    ///   - rowFilter: An optional compaction filter on `rows`; rows it returns `true` for are
    ///     removed when compaction rewrites them.
    /// - Throws: `StorageError` with code `.rocksdb` and RocksDB's message (for example when
    ///   `path` is a regular file or another handle holds the database's lock).
    public init(path: String, options: DatabaseOptions = DatabaseOptions(), rowFilter: RowFilter? = nil) throws {
        let databaseOptions = rocksdb_options_create()!
        rocksdb_options_set_create_if_missing(databaseOptions, options.createsIfMissing ? 1 : 0)
        rocksdb_options_set_create_missing_column_families(databaseOptions, 1)
        // Writes without the WAL (`writeUnlogged`) reach disk only by flushes; flushing every
        // column family together keeps what one batch wrote to several of them together on disk.
        rocksdb_options_set_atomic_flush(databaseOptions, 1)
        rocksdb_options_set_max_background_jobs(databaseOptions, Int32(clamping: options.maxBackgroundJobs))
        rocksdb_options_enable_statistics(databaseOptions)
        let rowCache: OpaquePointer? =
            options.rowCacheBytes > 0 ? rocksdb_cache_create_lru(options.rowCacheBytes) : nil
        if let rowCache {
            rocksdb_options_set_row_cache(databaseOptions, rowCache)
        }
        let blockCache = rocksdb_cache_create_lru(max(options.blockCacheBytes, 0))!

        let rowFilterBox = rowFilter.map { RowFilterBox(name: "crema.rows.filter", shouldRemove: $0) }
        let compactionFilter = rowFilterBox?.makeCompactionFilter()

        let names = ["default"] + ColumnFamily.allCases.map(\.name)
        let columnFamilyOptions = names.map { name in
            let familyOptions = rocksdb_options_create_copy(databaseOptions)!
            rocksdb_options_set_write_buffer_size(familyOptions, max(options.writeBufferBytes, 1 << 20))
            // The log's values are LZ4 blocks already: compressing them again costs a flush CPU
            // and saves nothing.
            let compresses = options.usesLZ4Compression && name != ColumnFamily.log.name
            rocksdb_options_set_compression(
                familyOptions, Int32(compresses ? rocksdb_lz4_compression : rocksdb_no_compression))
            let tableOptions = rocksdb_block_based_options_create()!
            rocksdb_block_based_options_set_block_cache(tableOptions, blockCache)
            if name == ColumnFamily.rows.name {
                if options.rowsBloomBitsPerKey > 0 {
                    rocksdb_block_based_options_set_filter_policy(
                        tableOptions, rocksdb_filterpolicy_create_bloom_full(options.rowsBloomBitsPerKey))
                }
                // Point lookups find a key in its data block by hash instead of a binary search
                // and a scan of the restart interval.
                rocksdb_block_based_options_set_data_block_index_type(
                    tableOptions, Int32(rocksdb_block_based_table_data_block_index_type_binary_search_and_hash))
                rocksdb_block_based_options_set_data_block_hash_ratio(tableOptions, 0.75)
                if let compactionFilter {
                    rocksdb_options_set_compaction_filter(familyOptions, compactionFilter)
                }
            }
            rocksdb_options_set_block_based_table_factory(familyOptions, tableOptions)
            rocksdb_block_based_options_destroy(tableOptions)
            return familyOptions
        }

        var handles = [OpaquePointer?](repeating: nil, count: names.count)
        let opened: OpaquePointer?
        do {
            opened = try withCStrings(names) { namePointers in
                try columnFamilyOptions.map { Optional($0) }.withUnsafeBufferPointer {
                    familyOptionPointers in
                    try StorageError.checkingRocksDB { error in
                        rocksdb_open_column_families(
                            databaseOptions, path, Int32(names.count), namePointers,
                            familyOptionPointers.baseAddress, &handles, error)
                    }
                }
            }
        } catch {
            columnFamilyOptions.forEach { rocksdb_options_destroy($0) }
            rocksdb_options_destroy(databaseOptions)
            compactionFilter.map { rocksdb_compactionfilter_destroy($0) }
            rocksdb_cache_destroy(blockCache)
            rowCache.map { rocksdb_cache_destroy($0) }
            throw error
        }

        self.path = path
        self.handle = opened!
        self.defaultColumnFamilyHandle = handles[0]!
        self.columnFamilyHandles = handles.dropFirst().map { $0! }
        self.databaseOptions = databaseOptions
        self.columnFamilyOptions = columnFamilyOptions
        self.blockCache = blockCache
        self.rowCache = rowCache
        self.compactionFilter = compactionFilter
        self.rowFilterBox = rowFilterBox
        self.readOptions = rocksdb_readoptions_create()!
        self.writeOptions = rocksdb_writeoptions_create()!
        self.syncWriteOptions = rocksdb_writeoptions_create()!
        rocksdb_writeoptions_set_sync(syncWriteOptions, 1)
        self.unloggedWriteOptions = rocksdb_writeoptions_create()!
        rocksdb_writeoptions_disable_WAL(unloggedWriteOptions, 1)
    }

    /// Whether `close()` ran.
    private let isClosed = Mutex(false)

    /// Closes the database and frees its handles now (every acknowledged write is already in the
    /// WAL). Call it before the process exits: RocksDB must not be closed while the C++ runtime
    /// tears down. No other call on the database may follow; closing twice does nothing.
    public func close() {
        let shouldClose = isClosed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard shouldClose else { return }
        columnFamilyHandles.forEach { rocksdb_column_family_handle_destroy($0) }
        rocksdb_column_family_handle_destroy(defaultColumnFamilyHandle)
        rocksdb_close(handle)
        compactionFilter.map { rocksdb_compactionfilter_destroy($0) }
        columnFamilyOptions.forEach { rocksdb_options_destroy($0) }
        rocksdb_options_destroy(databaseOptions)
        rocksdb_cache_destroy(blockCache)
        rowCache.map { rocksdb_cache_destroy($0) }
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_writeoptions_destroy(writeOptions)
        rocksdb_writeoptions_destroy(syncWriteOptions)
        rocksdb_writeoptions_destroy(unloggedWriteOptions)
    }

    deinit {
        close()
    }

    /// The RocksDB handle of a column family.
    func columnFamilyHandle(_ columnFamily: ColumnFamily) -> OpaquePointer {
        columnFamilyHandles[columnFamily.rawValue]
    }

    /// Creates an empty write batch for this database.
    public func makeWriteBatch() -> WriteBatch {
        WriteBatch(database: self)
    }

    /// Reads the value of `key` in a column family, or `nil` when the key is absent.
    ///
    /// - Complexity: O(log n) in the number of keys, plus the length of the value.
    /// - Throws: `StorageError` (`.rocksdb`) when RocksDB fails to read.
    public func get(_ key: [UInt8], in columnFamily: ColumnFamily) throws -> [UInt8]? {
        let slice = try key.withUnsafeBytes { keyBytes in
            try StorageError.checkingRocksDB { error in
                rocksdb_get_pinned_cf(
                    handle, readOptions, columnFamilyHandle(columnFamily),
                    keyBytes.baseAddress?.assumingMemoryBound(to: CChar.self), keyBytes.count, error)
            }
        }
        guard let slice else { return nil }
        defer { rocksdb_pinnableslice_destroy(slice) }
        var length = 0
        let value = rocksdb_pinnableslice_value(slice, &length)
        return [UInt8](UnsafeRawBufferPointer(start: value, count: length))
    }

    /// Applies every operation of `batch` atomically: after a crash either all of them or none
    /// are visible.
    ///
    /// - Parameters:
    ///   - batch: A batch made by this database's `makeWriteBatch()`.
    ///   - sync: Whether the WAL is fsynced before returning (otherwise it is written to the OS).
    /// - Complexity: O(n) in the size of the batch.
    /// - Throws: `StorageError` (`.rocksdb`) when RocksDB fails to write.
    public func write(_ batch: WriteBatch, sync: Bool) throws {
        precondition(batch.database === self, "a WriteBatch is written to the database that made it")
        try StorageError.checkingRocksDB { error in
            rocksdb_write(handle, sync ? syncWriteOptions : writeOptions, batch.handle, error)
        }
    }

    /// Applies `batch` atomically without writing it to the WAL, for what can be rebuilt from
    /// logged writes: it reaches disk with the next flush (all column families flush together,
    /// and `close()` flushes), and a crash before that loses the whole batch, never part of it.
    ///
    /// - Complexity: O(n) in the size of the batch.
    /// - Throws: `StorageError` (`.rocksdb`) when RocksDB fails to write.
    public func writeUnlogged(_ batch: WriteBatch) throws {
        precondition(batch.database === self, "a WriteBatch is written to the database that made it")
        try StorageError.checkingRocksDB { error in
            rocksdb_write(handle, unloggedWriteOptions, batch.handle, error)
        }
    }
}

/// Calls `body` with the strings as an array of NUL-terminated C strings.
private func withCStrings<Result>(
    _ strings: [String], _ body: ([UnsafePointer<CChar>?]) throws -> Result
) rethrows -> Result {
    let copies = strings.map { string -> UnsafeMutablePointer<CChar> in
        let utf8 = Array(string.utf8CString)
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
        pointer.initialize(from: utf8, count: utf8.count)
        return pointer
    }
    defer { copies.forEach { $0.deallocate() } }
    return try body(copies.map { UnsafePointer($0) })
}
