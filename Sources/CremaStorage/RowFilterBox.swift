import CRocksDB

/// Carries a `Database.RowFilter` closure into RocksDB's compaction filter callbacks.
///
/// RocksDB's compaction filter does not own its state: the `Database` keeps this box alive
/// for as long as the filter exists and hands it to C unretained.
/// Immutable after `init`, so RocksDB's background threads may call it concurrently.
final class RowFilterBox {
    /// The closure that decides which rows compaction removes.
    let shouldRemove: Database.RowFilter
    /// The filter's name as a NUL-terminated C string, as RocksDB's `name` callback returns it.
    private let namePointer: UnsafeMutablePointer<CChar>

    /// Creates a box for `shouldRemove`, named `name` in RocksDB's logs.
    init(name: String, shouldRemove: @escaping Database.RowFilter) {
        self.shouldRemove = shouldRemove
        let utf8 = Array(name.utf8CString)
        let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
        pointer.initialize(from: utf8, count: utf8.count)
        namePointer = pointer
    }

    deinit {
        namePointer.deallocate()
    }

    /// Creates the RocksDB compaction filter that calls this box; the caller destroys it with
    /// `rocksdb_compactionfilter_destroy` after the database is closed, and keeps the box alive
    /// until then.
    func makeCompactionFilter() -> OpaquePointer {
        rocksdb_compactionfilter_create(
            Unmanaged.passUnretained(self).toOpaque(),
            { _ in },
            { state, _, key, keyLength, value, valueLength, _, _, _ in
                let box = Unmanaged<RowFilterBox>.fromOpaque(state!).takeUnretainedValue()
                let keyBytes = UnsafeRawBufferPointer(start: key, count: keyLength)
                let valueBytes = UnsafeRawBufferPointer(start: value, count: valueLength)
                return box.shouldRemove(keyBytes, valueBytes) ? 1 : 0
            },
            { state in
                UnsafePointer(Unmanaged<RowFilterBox>.fromOpaque(state!).takeUnretainedValue().namePointer)
            }
        )
    }
}
