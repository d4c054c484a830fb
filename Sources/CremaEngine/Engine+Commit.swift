import CremaAggregation
import CremaStorage

/// An event that passed deduplication and the clock checks, with the rows it feeds.
struct PreparedEvent {
    /// The decoded fields.
    let fields: [FieldValue]
    /// The event time (ms).
    let time: Int64
    /// The arrival sequence number.
    let arrival: UInt64
    /// (group index, entity key) of every group whose filter the event passes.
    let targets: [(group: Int, key: [UInt8])]
}

extension Engine {
    /// Applies one micro-batch and writes it as one atomic WriteBatch: the raw events, the
    /// producers' last `seq` and the next arrival number. Changed rows reach RocksDB at the next
    /// checkpoint; until then the logged events replay them after a crash. Writer thread only.
    ///
    /// - Returns: one outcome per batch, in order.
    func commit(_ batches: [IngestBatch]) throws(EngineError) -> [IngestOutcome] {
        let now = configuration.clock()
        var outcomes = [IngestOutcome](repeating: IngestOutcome(), count: batches.count)
        var newSequences: [String: UInt64] = [:]
        var prepared: [PreparedEvent] = []
        var owners: [Int] = []
        var records: [LogRecord] = []
        let firstArrival = nextArrival

        for (batchIndex, batch) in batches.enumerated() {
            for event in batch.events {
                if let producer = batch.producer {
                    let settled = newSequences[producer] ?? settledSequence(of: producer)
                    if event.sequence <= settled {
                        outcomes[batchIndex].duplicates += 1
                        continue
                    }
                    newSequences[producer] = event.sequence
                }
                let time = event.time ?? now
                if time > now + configuration.maxFuture {
                    outcomes[batchIndex].rejections.append(.init(
                        line: event.line,
                        message: "event time \(time) is more than \(configuration.maxFuture) ms ahead of the server clock (\(now))"
                    ))
                    continue
                }
                let arrival = nextArrival
                nextArrival += 1
                prepared.append(prepare(event.fields, eventIndex: event.eventIndex, time: time, arrival: arrival))
                owners.append(batchIndex)
                records.append(LogRecord(
                    arrivalSequence: arrival, arrivalTime: now, producer: batch.producer ?? "",
                    producerSequence: event.sequence, line: event.raw
                ))
            }
        }

        let isLate = try apply(prepared, now: now)
        for (index, owner) in owners.enumerated() {
            outcomes[owner].accepted += 1
            if isLate[index] { outcomes[owner].late += 1 }
        }

        let batch = database.makeWriteBatch()
        if !records.isEmpty {
            batch.put(LogCodec.key(sequence: firstArrival), value: LogCodec.encodeBlock(records), in: .log)
        }
        for (producer, sequence) in newSequences {
            MetaStore.putProducerSequence(sequence, for: producer, into: batch)
        }
        MetaStore.putNextArrival(nextArrival, into: batch)
        do {
            try database.write(batch, sync: configuration.durability == .sync)
        } catch {
            throw EngineError(.storage, "writing a batch of \(records.count) events: \(error)")
        }

        settledLock.withLock {
            settledSequences.merge(newSequences) { $1 }
            for outcome in outcomes {
                counters.accepted += outcome.accepted
                counters.duplicates += outcome.duplicates
                counters.late += outcome.late
                counters.rejected += outcome.rejections.count
            }
            counters.commits += 1
        }
        return outcomes
    }

    /// Routes an event to the rows it feeds: every group of its type whose filter it passes and
    /// whose key fields are not null.
    func prepare(_ fields: [FieldValue], eventIndex: Int, time: Int64, arrival: UInt64) -> PreparedEvent {
        var targets: [(group: Int, key: [UInt8])] = []
        for groupIndex in plan.groupsByEvent[eventIndex] {
            let group = plan.groups[groupIndex]
            if let filter = group.definition.filter, !filter.evaluate(fields) { continue }
            guard let key = group.entityKey(of: fields) else { continue }
            targets.append((groupIndex, key))
        }
        return PreparedEvent(fields: fields, time: time, arrival: arrival, targets: targets)
    }

    /// Applies prepared events to their rows (loading stored rows first) and marks the rows dirty.
    /// Writer thread only.
    ///
    /// - Returns: for each event, whether it was too old for every window it feeds (`late`).
    func apply(_ prepared: [PreparedEvent], now: Int64) throws(EngineError) -> [Bool] {
        // Loading needs no lock: only this thread changes `tables`.
        let loaded = try loadMissingRows(for: prepared)
        var isLate = [Bool](repeating: false, count: prepared.count)
        stateLock.lock()
        defer { stateLock.unlock() }
        for (groupIndex, rows) in loaded.enumerated() {
            for (key, row) in rows { tables[groupIndex][key] = row }
        }
        for (index, item) in prepared.enumerated() {
            var feedsWindow = false
            var keptByWindow = false
            for target in item.targets {
                let group = plan.groups[target.group]
                let row: Row
                if let existing = tables[target.group][target.key] {
                    row = existing
                } else {
                    row = Row(emptyOf: group)
                    tables[target.group][target.key] = row
                }
                for (aggregateIndex, aggregator) in group.aggregators.enumerated() {
                    if let filter = group.definition.aggregates[aggregateIndex].filter, !filter.evaluate(item.fields) {
                        continue
                    }
                    let result = aggregator.add(
                        item.fields, time: item.time, arrival: item.arrival, now: now, to: row.states[aggregateIndex]
                    )
                    if group.isWindowed[aggregateIndex] && result != .skipped {
                        feedsWindow = true
                        keptByWindow = keptByWindow || result == .kept
                    }
                }
                row.newestEventTime = max(row.newestEventTime, item.time)
                dirtyRows[target.group].insert(target.key)
            }
            isLate[index] = feedsWindow && !keptByWindow
        }
        return isLate
    }

    /// The settled `seq` of a producer (writer thread).
    private func settledSequence(of producer: String) -> UInt64 {
        settledLock.withLock { settledSequences[producer] ?? 0 }
    }

    /// Reads, with one batched multi-get per group, the stored rows the prepared events need
    /// that are not in memory. Rows not on disk are absent from the result (they start empty).
    private func loadMissingRows(for prepared: [PreparedEvent]) throws(EngineError) -> [[[UInt8]: Row]] {
        var missing: [Set<[UInt8]>] = Array(repeating: [], count: plan.groups.count)
        for item in prepared {
            for target in item.targets where tables[target.group][target.key] == nil {
                missing[target.group].insert(target.key)
            }
        }
        var loaded: [[[UInt8]: Row]] = Array(repeating: [:], count: plan.groups.count)
        for (groupIndex, keys) in missing.enumerated() where !keys.isEmpty {
            let group = plan.groups[groupIndex]
            let entityKeys = Array(keys)
            let values: [[UInt8]?]
            do {
                values = try database.batchedMultiGet(
                    entityKeys.map { RowKey.make(groupID: group.definition.id, entityKey: $0) }, in: .rows
                )
            } catch {
                throw EngineError(.storage, "loading rows of \(group.definition.name): \(error)")
            }
            for (key, value) in zip(entityKeys, values) {
                guard let value else { continue }
                loaded[groupIndex][key] = try Row(decoding: value, of: group)
            }
        }
        return loaded
    }
}
