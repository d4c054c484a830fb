import CremaAggregation
import CremaStorage

/// The in-memory state of one entity in one group: one state per aggregate.
///
/// Mutated only by the writer while it holds its group table's lock; readers take the same lock.
final class Row {
    /// One state per aggregate, parallel to the group's aggregates.
    @exclusivity(unchecked) var states: [AggregateState]
    /// The newest event time applied to the row (ms).
    var newestEventTime: Int64
    /// The arrival number after the newest event applied to the row: replaying the log skips
    /// the events below it, which the row holds already.
    var nextArrival: UInt64
    /// Whether the row changed since it was last written to RocksDB.
    var isDirty = false
    /// The row's slot in its group's `RowIndex` (and `ResultCache`); -1 until inserted.
    var slot: Int32 = -1

    init(states: [AggregateState], newestEventTime: Int64, nextArrival: UInt64) {
        self.states = states
        self.newestEventTime = newestEventTime
        self.nextArrival = nextArrival
    }

    /// An empty row of `group`.
    convenience init(emptyOf group: GroupPlan) {
        self.init(states: group.aggregators.map { $0.makeState() }, newestEventTime: Int64.min, nextArrival: 0)
    }

    /// Decodes a stored row; aggregates missing from it (new since it was written) start empty.
    convenience init(decoding bytes: [UInt8], of group: GroupPlan) throws(EngineError) {
        let decoded = bytes.withUnsafeBytes { buffer in
            Result { () throws(EngineError) in try Row.decode(buffer, of: group) }
        }
        let (states, newestEventTime, nextArrival) = try decoded.get()
        self.init(states: states, newestEventTime: newestEventTime, nextArrival: nextArrival)
    }

    /// The section table of a stored row of `group`; a malformed row is a `.corruption` error.
    static func view(of bytes: UnsafeRawBufferPointer, in group: GroupPlan) throws(EngineError) -> RowView {
        do {
            return try RowView(bytes: bytes)
        } catch {
            throw EngineError(.corruption, "row of group \(group.definition.name): \(error)")
        }
    }

    private static func decode(
        _ bytes: UnsafeRawBufferPointer, of group: GroupPlan
    ) throws(EngineError) -> (states: [AggregateState], newestEventTime: Int64, nextArrival: UInt64) {
        let view = try view(of: bytes, in: group)
        var states: [AggregateState] = []
        states.reserveCapacity(group.aggregators.count)
        for (aggregator, aggregate) in zip(group.aggregators, group.definition.aggregates) {
            if let section = view.section(for: aggregate.id) {
                do {
                    states.append(try aggregator.decode(section))
                } catch {
                    throw EngineError(.corruption, "\(group.definition.name).\(aggregate.name): \(error)")
                }
            } else {
                states.append(aggregator.makeState())
            }
        }
        return (states, view.newestEventTime, view.nextArrival)
    }

    /// The row's stored form: one section per aggregate, written into one buffer.
    func encode(of group: GroupPlan) -> [UInt8] {
        group.aggregators.withUnretainedElements { aggregators in
            states.withUnretainedElements { states in
                RowCodec.encode(
                    aggregateIDs: group.sortedAggregateIDs, newestEventTime: newestEventTime, nextArrival: nextArrival
                ) { index, bytes in
                    let aggregate = group.aggregateIndicesByID[index]
                    aggregators[aggregate]._withUnsafeGuaranteedRef { aggregator in
                        states[aggregate]._withUnsafeGuaranteedRef { aggregator.encode($0, into: &bytes) }
                    }
                }
            }
        }
    }
}

/// The rows of one group held in memory. The writer changes it while holding its `lock`;
/// readers read it under the same lock.
final class GroupTable {
    /// Guards the table between the writer and readers.
    let lock = StateLock()
    /// Rows by entity key.
    let rows = RowIndex()
    /// Finalized values of the rows' features, by slot.
    let cache: ResultCache
    /// What bounding the rows in memory needs.
    let eviction = EvictionClock()
    /// Whether every row of the group stored in RocksDB is also in memory (the group had no
    /// stored rows when the engine opened, rows are only stored from memory, and none has been
    /// evicted), so that a key missing here has no row at all and needs no RocksDB read.
    var holdsEveryStoredRow: Bool
    /// The rows changed since they were last written, each once, in the order they changed
    /// (so by ascending `since`); entries before `dirtyStart` are written already.
    private(set) var dirty: [DirtyRow] = []
    /// The first entry of `dirty` not written yet.
    private(set) var dirtyStart = 0

    /// An empty table of a group whose features hold as `freshness` says.
    init(freshness: [FeatureFreshness], holdsEveryStoredRow: Bool) {
        cache = ResultCache(freshness: freshness)
        self.holdsEveryStoredRow = holdsEveryStoredRow
    }

    /// The rows changed and not written yet, oldest change first.
    var unwritten: ArraySlice<DirtyRow> { dirty[dirtyStart...] }

    /// Records that `row` changed with the event of arrival number `arrival` at `time`; a row
    /// already changed keeps its place. A changed row keeps its slot, hence its key in `rows`,
    /// until it is written: only written rows leave memory.
    func markDirty(_ row: Row, arrival: UInt64, at time: ContinuousClock.Instant) {
        guard !row.isDirty else { return }
        row.isDirty = true
        dirty.append(DirtyRow(row: row, since: arrival, at: time))
    }

    /// Puts a row read from RocksDB in memory, taking `size` bytes of the memory budget. Its
    /// slot may have held a row removed since, whose cached values go.
    func insertStoredRow(_ row: Row, key: [UInt8], size: Int) {
        rows[key] = row
        let slot = Int(row.slot)
        cache.invalidate(slot: slot)
        eviction.setSize(size, slot: slot)
    }

    /// Takes the clean row in `slot` out of memory: its index entry, cached values and
    /// eviction record.
    ///
    /// - Returns: the estimated bytes it took.
    func removeRow(slot: Int) -> Int {
        cache.invalidate(slot: slot)
        rows[rows.key(ofSlot: slot)] = nil
        return eviction.forget(slot: slot)
    }

    /// Records that the oldest `count` unwritten rows were written.
    func markWritten(_ count: Int) {
        for entry in dirty[dirtyStart..<(dirtyStart + count)] { entry.row.isDirty = false }
        dirtyStart += count
        // Drop written entries once they are half the list: O(1) amortized per row.
        if dirtyStart * 2 >= dirty.count {
            dirty.removeFirst(dirtyStart)
            dirtyStart = 0
        }
    }
}

/// A row changed since it was last written.
struct DirtyRow {
    /// The row (its entity key is the one of its slot in the table's `rows`).
    let row: Row
    /// The arrival number of the first event that changed it since it was written.
    let since: UInt64
    /// When that event was applied.
    let at: ContinuousClock.Instant
}
