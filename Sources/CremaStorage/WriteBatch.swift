import CRocksDB

/// A set of puts and deletes across column families, applied atomically by
/// `Database.write(_:sync:)`.
///
/// Owns its `rocksdb_writebatch_t*`. Made by `Database.makeWriteBatch()` and written only to
/// that database. Not thread-safe: one writer fills it.
public final class WriteBatch {
    /// The database whose column families the operations name.
    let database: Database
    /// The `rocksdb_writebatch_t*`.
    let handle: OpaquePointer

    /// Creates an empty batch for `database`.
    init(database: Database) {
        self.database = database
        self.handle = rocksdb_writebatch_create()!
    }

    deinit {
        rocksdb_writebatch_destroy(handle)
    }

    /// The number of operations in the batch.
    public var count: Int {
        Int(rocksdb_writebatch_count(handle))
    }

    /// Whether the batch holds no operations.
    public var isEmpty: Bool {
        count == 0
    }

    /// Adds a put of `value` at `key` in a column family (copies both).
    ///
    /// - Complexity: O(key length + value length).
    public func put(_ key: [UInt8], value: [UInt8], in columnFamily: ColumnFamily) {
        key.withUnsafeBytes { keyBytes in
            value.withUnsafeBytes { valueBytes in
                put(keyBytes, value: valueBytes, in: columnFamily)
            }
        }
    }

    /// Adds a put of `value` at `key` in a column family (copies both).
    ///
    /// - Complexity: O(key length + value length).
    public func put(_ key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, in columnFamily: ColumnFamily) {
        rocksdb_writebatch_put_cf(
            handle, database.columnFamilyHandle(columnFamily),
            key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count,
            value.baseAddress?.assumingMemoryBound(to: CChar.self), value.count)
    }

    /// Adds a delete of `key` in a column family.
    ///
    /// - Complexity: O(key length).
    public func delete(_ key: [UInt8], in columnFamily: ColumnFamily) {
        key.withUnsafeBytes { keyBytes in
            rocksdb_writebatch_delete_cf(
                handle, database.columnFamilyHandle(columnFamily),
                keyBytes.baseAddress?.assumingMemoryBound(to: CChar.self), keyBytes.count)
        }
    }

    /// Removes every operation, so the batch can be reused.
    public func clear() {
        rocksdb_writebatch_clear(handle)
    }
}
