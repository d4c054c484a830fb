import CremaStorage

extension Engine {
    /// Writes every row changed since the last checkpoint, with the checkpoint mark, in one
    /// atomic WriteBatch; after it, recovery replays the log only from the mark. Writer thread.
    func checkpoint() throws(EngineError) {
        let batch = database.makeWriteBatch()
        var puts: [(key: [UInt8], value: [UInt8])] = []
        for (group, table) in zip(plan.groups, tables) {
            for (key, row) in table.dirty {
                puts.append((RowKey.make(groupID: group.definition.id, entityKey: key), row.encode(of: group)))
            }
        }
        let rows = puts.count
        batch.putInKeyOrder(puts, in: .rows)
        MetaStore.putCheckpoint(nextArrival, into: batch)
        do {
            try database.write(batch, sync: configuration.durability == .sync)
        } catch {
            throw EngineError(.storage, "writing a checkpoint of \(rows) rows: \(error)")
        }
        checkpointMark = nextArrival
        stateLock.withLock {
            for table in tables {
                for (_, row) in table.dirty { row.isDirty = false }
                table.dirty.removeAll(keepingCapacity: true)
            }
        }
        lastCheckpoint = .now
        settledLock.withLock { counters.checkpoints += 1 }
    }

    /// Whether enough has changed, or enough time has passed, for a checkpoint.
    var isCheckpointDue: Bool {
        let dirty = tables.reduce(0) { $0 + $1.dirty.count }
        guard dirty > 0 else { return false }
        return dirty >= configuration.checkpointRows || ContinuousClock.now - lastCheckpoint >= configuration.checkpointInterval
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
                prepared.append(prepare(event.fields, eventIndex: event.eventIndex, time: event.time ?? record.arrivalTime, arrival: record.arrivalSequence))
            case .failure:
                // The spec changed since the event was accepted and no longer describes it.
                skipped += 1
            }
        }
        _ = try apply(prepared, now: clock)
        logger.info("replayed the event log after the checkpoint", metadata: ["events": "\(records.count - skipped)", "skipped": "\(skipped)"])
        try checkpoint()
    }
}
