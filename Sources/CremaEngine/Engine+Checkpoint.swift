import CremaStorage
import Dispatch

extension Engine {
    /// Writes the rows changed longest ago, then the new checkpoint mark (the oldest arrival a
    /// row still unwritten lacks), in WriteBatches without the WAL: the rows in chunks, each
    /// encoded and written by a core of its own, the mark once every chunk is written. Recovery
    /// replays the log from the mark on disk, and each row skips the events it holds already
    /// (`Row.nextArrival`), so a crash that loses writes before their flush, or flushes some
    /// chunks without the mark, only means a longer replay. Then bounds the rows in memory.
    /// Writer thread.
    ///
    /// Rows are due once they changed `checkpointInterval` ago or more than `checkpointRows`
    /// (fewer under a memory budget) are unwritten: writing a row once per interval rather
    /// than after every change spares most encodings of busy rows, and writing a few at a time
    /// spares the producers a pause.
    ///
    /// - Parameters:
    ///   - everything: Write every changed row (at shutdown and after replay).
    ///   - limit: The most rows written, unless `everything`.
    func checkpoint(everything: Bool = false, limit: Int = .max) throws(EngineError) {
        let due = everything ? tables.map(\.unwritten.count) : rowsDue(limit: limit)
        let rows = due.reduce(0, +)
        let mark = checkpointMark(afterWriting: due)
        guard rows > 0 || mark > checkpointMark else { return }
        let start = ContinuousClock.now
        // Rows are encoded and written in chunks spread over the cores (only this thread changes
        // rows); RocksDB inserts concurrent batches into the memtable in parallel.
        let chunks = due.enumerated().flatMap { group, count in
            stride(from: 0, to: count, by: Self.rowsEncodedPerTask).map { (group: group, rows: $0..<min($0 + Self.rowsEncodedPerTask, count)) }
        }
        let written = ConcurrentResults<Result<[Int], any Error>>(count: chunks.count)
        DispatchQueue.concurrentPerform(iterations: chunks.count) { index in
            let (groupIndex, rows) = chunks[index]
            let unwritten = tables[groupIndex].unwritten
            written.set(index, Result {
                try Self.write(
                    unwritten[(unwritten.startIndex + rows.lowerBound)..<(unwritten.startIndex + rows.upperBound)],
                    of: plan.groups[groupIndex], keys: tables[groupIndex].rows, to: database)
            })
        }
        // Estimated memory of each written row, for bounding the rows in memory.
        var sizes = [[Int]](repeating: [], count: tables.count)
        do {
            for (chunk, result) in zip(chunks, written.values) { sizes[chunk.group] += try result.get() }
            let markBatch = database.makeWriteBatch()
            MetaStore.putCheckpoint(mark, into: markBatch)
            try database.writeUnlogged(markBatch)
        } catch {
            throw EngineError(.storage, "writing a checkpoint of \(rows) rows: \(error)")
        }
        checkpointMark = mark
        for (index, table) in tables.enumerated() {
            table.lock.withWriterLock {
                for (entry, size) in zip(table.unwritten.prefix(due[index]), sizes[index]) {
                    table.eviction.setSize(size, slot: Int(entry.row.slot))
                }
                table.markWritten(due[index])
            }
        }
        evictOverBudget()
        settledLock.withLock {
            counters.checkpoints += 1
            counters.rowsWritten += rows
            counters.checkpointTime += .now - start
        }
    }

    /// Writes `entries`' rows, keyed by their slots in `keys`, in one batch without the WAL in
    /// key order.
    /// - Returns: Each row's estimated memory, in `entries`' order.
    private static func write(_ entries: ArraySlice<DirtyRow>, of group: GroupPlan, keys: RowIndex, to database: Database) throws -> [Int] {
        let rows = encode(entries, of: group, keys: keys)
        let batch = database.makeWriteBatch()
        batch.putInKeyOrder(rows, in: .rows)
        try database.writeUnlogged(batch)
        return rows.map { estimatedMemory(ofEncodedBytes: $0.value.count) }
    }

    /// The keys (from the rows' slots in `keys`) and stored forms of `entries`' rows,
    /// prefetching the rows ahead of encoding them.
    private static func encode(_ entries: ArraySlice<DirtyRow>, of group: GroupPlan, keys: RowIndex) -> [(key: [UInt8], value: [UInt8])] {
        let pipeline = RowPrefetchPipeline.encoding
        let rowOffset = MemoryLayout<DirtyRow>.offset(of: \DirtyRow.row)!
        return entries.withUnsafeBufferPointer { entries in
            group.aggregators.withUnretainedElements { aggregators in
                var rows: [(key: [UInt8], value: [UInt8])] = []
                rows.reserveCapacity(entries.count)
                pipeline.forEachRow(
                    count: entries.count, aggregators: aggregators,
                    rowAddress: { UnsafeRawPointer(entries.baseAddress! + $0).load(fromByteOffset: rowOffset, as: UnsafeRawPointer.self) },
                    eventTime: { _ in .max }
                ) { position in
                    let entry = entries[position]
                    let key = keys.withKey(ofSlot: Int(entry.row.slot)) { RowKey.make(groupID: group.definition.id, entityKey: $0) }
                    rows.append((key, entry.row.encode(of: group)))
                }
                return rows
            }
        }
    }

    /// Rows one task of a checkpoint encodes and writes: enough to outweigh handing the task to
    /// a core and a RocksDB write, few enough that the cores finish together.
    static let rowsEncodedPerTask = 256

    /// How many of each group's unwritten rows are due, oldest first, at most `limit` in all.
    private func rowsDue(limit: Int) -> [Int] {
        let unwritten = tables.reduce(0) { $0 + $1.unwritten.count }
        var excess = max(0, unwritten - (maximumUnwrittenRows - 1))
        let cutoff = ContinuousClock.now - configuration.checkpointInterval
        var budget = limit
        return tables.map { table in
            var count = 0
            for entry in table.unwritten {
                guard budget > 0, excess > 0 || entry.at <= cutoff else { break }
                count += 1
                budget -= 1
                excess = max(0, excess - 1)
            }
            return count
        }
    }

    /// The rows that may stay unwritten: `checkpointRows`, and under a memory budget no more
    /// than half of it at 4 kB a row, since they cannot leave memory.
    private var maximumUnwrittenRows: Int {
        guard let budget = configuration.rowMemoryBudget else { return configuration.checkpointRows }
        return max(1, min(configuration.checkpointRows, budget / 8_192))
    }

    /// The checkpoint mark once `due` rows of each group are written: the oldest arrival an
    /// unwritten row lacks, or the next arrival when none is left.
    private func checkpointMark(afterWriting due: [Int]) -> UInt64 {
        var mark = nextArrival
        for (table, count) in zip(tables, due) {
            let left = table.unwritten.dropFirst(count)
            if let first = left.first { mark = min(mark, first.since) }
        }
        return mark
    }

    /// The memory a row takes, estimated from its encoded size: states are objects with
    /// headers and array capacity the encoding packs away. Fitted to `crema bench ingest`'s
    /// resident memory per row (2026-11-26, jemalloc, packed sequences): 7.2 kB for view rows
    /// of 1.4 kB encoded on average (6M events), 5.5 kB for 1.06 kB (3M), 3.1 kB for 0.6 kB
    /// (1M), 1.3 kB for like rows of 34 bytes. (8 bytes per encoded byte, fitted before,
    /// now overestimated view rows 1.7 times: rows left memory long before the budget.)
    static func estimatedMemory(ofEncodedBytes count: Int) -> Int { 9 * count / 2 + 1_000 }

    /// Removes rows stored in RocksDB and unused for longest (CLOCK), group by group in turn,
    /// until the estimated memory of the rows is within `rowMemoryBudget`. Dirty rows stay.
    /// Writer thread; takes a table's lock to remove its rows.
    private func evictOverBudget() {
        guard let budget = configuration.rowMemoryBudget else { return }
        var total = tables.reduce(0) { $0 + $1.eviction.totalBytes }
        var evicted = true
        while total > budget && evicted {
            evicted = false
            for table in tables where total > budget {
                table.lock.withWriterLock {
                    let rows = table.rows.rows
                    guard let slot = table.eviction.nextVictim(slotCount: table.rows.slotCount, isEvictable: { !rows[$0].isDirty }) else {
                        return
                    }
                    total -= table.removeRow(slot: slot)
                    table.holdsEveryStoredRow = false
                    evicted = true
                }
            }
        }
    }

    /// Re-applies the logged events the stored rows do not reflect yet (those at or after the
    /// checkpoint mark), as they were applied before: each at its arrival time as the clock.
    /// Then writes a checkpoint. Runs once, before the writer starts.
    func replayLog() throws(EngineError) {
        let records = try loggedEvents(from: checkpointMark)
        guard !records.isEmpty else { return }
        let decoder = EventDecoder(spec: spec)
        var prepared: [PreparedEvent] = []
        var clock: Int64 = records[0].arrivalTime
        var skipped = 0
        for record in records {
            if record.arrivalTime != clock, !prepared.isEmpty {
                _ = try apply(prepared, now: clock)
                prepared.removeAll(keepingCapacity: true)
            }
            clock = record.arrivalTime
            switch decoder.decode(line: record.line, lineNumber: 0, expectsSequence: false) {
            case .success(let event):
                prepared.append(PreparedEvent(
                    fields: event.fields, eventIndex: event.eventIndex, time: event.time ?? record.arrivalTime,
                    arrival: record.arrivalSequence))
            case .failure:
                // The spec changed since the event was accepted and no longer describes it.
                skipped += 1
            }
        }
        _ = try apply(prepared, now: clock)
        logger.info("replayed the event log after the checkpoint", metadata: ["events": "\(records.count - skipped)", "skipped": "\(skipped)"])
        try checkpoint(everything: true)
    }
}
