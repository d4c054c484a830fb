/// The column families of a Crema database.
///
/// RocksDB's `default` column family is opened too (RocksDB requires it) but holds nothing.
public enum ColumnFamily: Int, CaseIterable, Hashable, Sendable {
    /// Feature rows: key = group id (u32 big endian) ‖ entity key; value = a versioned row.
    case rows
    /// The retained raw events: key = sequence number (u64 big endian); value = a log block.
    case log
    /// Registered specs and their versions, producer offsets.
    case meta

    /// The column family's name on disk.
    public var name: String {
        switch self {
        case .rows: "rows"
        case .log: "log"
        case .meta: "meta"
        }
    }
}
