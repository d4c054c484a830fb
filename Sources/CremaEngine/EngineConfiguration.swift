import CremaAggregation

/// How the engine commits, retains and bounds what it keeps.
public struct EngineConfiguration: Sendable {
    /// Whether a commit waits for the WAL write only, or for an fsync too.
    public enum Durability: String, Sendable, CaseIterable {
        /// Acknowledge once the WriteBatch is in the WAL (survives a process crash).
        case wal
        /// Acknowledge once the WAL is fsynced (survives a machine crash).
        case sync
    }

    /// When acknowledgements are given.
    public var durability: Durability = .wal
    /// Events more than this many ms ahead of the server clock are rejected.
    public var maxFuture: Int64 = Milliseconds.minute
    /// The most events one group commit applies.
    public var maxBatchEvents = 16_384
    /// The most rows that stay changed without being written to RocksDB; beyond it the oldest
    /// changed are written.
    public var checkpointRows = 400_000
    /// How long a changed row may wait before it is written, which bounds the log replayed
    /// after a crash.
    public var checkpointInterval: Swift.Duration = .seconds(10)
    /// The estimated memory the rows in memory may take (bytes); nil: unbounded. After each
    /// checkpoint, rows not used for longest that are stored in RocksDB leave memory until the
    /// estimate is under it; they are read from RocksDB again when needed.
    public var rowMemoryBudget: Int?
    /// How long raw events stay in the log (ms).
    public var retainEvents: Int64 = 7 * Milliseconds.day
    /// The server clock in epoch ms; tests replace it.
    public var clock: @Sendable () -> Int64 = { systemTimeMilliseconds() }

    /// Creates the default configuration.
    public init() {}
}
