/// How a `Database` is opened: cache sizes, filters, compression and background work.
///
/// A plain value; `Database.init` turns it into RocksDB's C options when it opens.
public struct DatabaseOptions: Hashable, Sendable {
    /// Bytes of the LRU block cache shared by all column families (uncompressed SST blocks).
    public var blockCacheBytes: Int
    /// Bytes of the row cache (whole key-value pairs); 0, the default, disables it. Crema keeps
    /// hot rows in memory itself; a row cache in front of cold reads only added lookups and
    /// copies (`crema bench read`, cold: 47 ms p50 with 64 MiB, 30 ms without).
    public var rowCacheBytes: Int
    /// Bits per key of the bloom filter on `rows`; 0 disables it.
    public var rowsBloomBitsPerKey: Double
    /// Whether SST blocks are LZ4-compressed (those of `log` never are: its values are LZ4 blocks).
    public var usesLZ4Compression: Bool
    /// Bytes of one memtable before it is flushed (at least 1 MiB is used).
    public var writeBufferBytes: Int
    /// The most flushes and compactions RocksDB runs at once.
    public var maxBackgroundJobs: Int
    /// Whether opening a path with no database creates one.
    public var createsIfMissing: Bool

    /// Creates options; the defaults suit a single server process.
    public init(
        blockCacheBytes: Int = 256 << 20,
        rowCacheBytes: Int = 0,
        rowsBloomBitsPerKey: Double = 10,
        usesLZ4Compression: Bool = true,
        writeBufferBytes: Int = 64 << 20,
        maxBackgroundJobs: Int = 2,
        createsIfMissing: Bool = true
    ) {
        self.blockCacheBytes = blockCacheBytes
        self.rowCacheBytes = rowCacheBytes
        self.rowsBloomBitsPerKey = rowsBloomBitsPerKey
        self.usesLZ4Compression = usesLZ4Compression
        self.writeBufferBytes = writeBufferBytes
        self.maxBackgroundJobs = maxBackgroundJobs
        self.createsIfMissing = createsIfMissing
    }
}
