import CremaAggregation
import CremaStorage
import Dispatch

/// An event that passed deduplication and the clock checks.
struct PreparedEvent {
    /// The decoded fields.
    let fields: [FieldValue]
    /// The index of the event's type in `CompiledSpec.events`.
    let eventIndex: Int
    /// The event time (ms).
    let time: Int64
    /// The arrival sequence number.
    let arrival: UInt64
}

/// One group's share of a micro-batch: the position of each event it takes (in the prepared
/// events) with the event's entity key, in event order; the keys in one buffer rather than an
/// array each.
struct GroupWork {
    /// The positions of the events in the prepared events.
    var events: [Int] = []
    /// The entity key of each event, parallel to `events`.
    var keys: KeyBatch

    /// The number of events.
    var count: Int { events.count }
}

/// What the per-group workers of one `apply` share. Each worker changes only its own group's
/// table and its own slice of `windowUse`, so they never touch the same memory.
private struct GroupShares: @unchecked Sendable {
    let groups: [Int]
    let work: [GroupWork]
    let prepared: [PreparedEvent]
    let windowUse: UnsafeMutableBufferPointer<UInt8>
    let alongside: (() -> Void)?
}

extension Engine {
    /// Events a group applies per hold of its table's lock: a read waits for at most this many
    /// (about 0.5 ms of view events here) rather than for a whole micro-batch. Each hold starts
    /// the row prefetch pipeline afresh, so its first events wait for their rows: fewer, longer
    /// holds apply faster.
    static let eventsPerLockHold = 128

    /// Applies one micro-batch and writes it as one atomic WriteBatch: the raw events (each
    /// batch's `logSegments` entry, which its submitter compressed), the producers' last `seq`
    /// and the next arrival number. The WriteBatch is written while the groups apply the events
    /// (it holds nothing they compute). Changed rows reach RocksDB at a later checkpoint; until
    /// then the logged events replay them after a crash. Writer thread only.
    ///
    /// - Returns: one outcome per batch, in order.
    func commit(_ batches: [IngestBatch], logSegments: [LogSegment]) throws(EngineError) -> [IngestOutcome] {
        let now = configuration.clock()
        var outcomes = [IngestOutcome](repeating: IngestOutcome(), count: batches.count)
        var newSequences: [String: UInt64] = [:]
        var prepared: [PreparedEvent] = []
        var owners: [Int] = []
        var accepted: [LogCodec.AcceptedSegment] = []
        let firstArrival = nextArrival

        for (batchIndex, batch) in batches.enumerated() {
            // Sequences only grow within a batch: the settled one is looked up once per batch.
            var settled = batch.producer.map { newSequences[$0] ?? settledSequence(of: $0) } ?? 0
            let batchFirstArrival = nextArrival
            var skipped: [Int] = []
            for (position, event) in batch.events.enumerated() {
                if batch.producer != nil {
                    if event.sequence <= settled {
                        outcomes[batchIndex].duplicates += 1
                        skipped.append(position)
                        continue
                    }
                    settled = event.sequence
                }
                let time = event.time ?? now
                if time > now + configuration.maxFuture {
                    outcomes[batchIndex].rejections.append(.init(
                        line: event.line,
                        message: "event time \(time) is more than \(configuration.maxFuture) ms ahead of the server clock (\(now))"
                    ))
                    skipped.append(position)
                    continue
                }
                let arrival = nextArrival
                nextArrival += 1
                prepared.append(PreparedEvent(fields: event.fields, eventIndex: event.eventIndex, time: time, arrival: arrival))
                owners.append(batchIndex)
            }
            if nextArrival > batchFirstArrival {
                accepted.append(.init(segment: logSegments[batchIndex], firstArrival: batchFirstArrival, skipped: skipped))
            }
            if let producer = batch.producer, settled > (newSequences[producer] ?? 0) {
                newSequences[producer] = settled
            }
        }

        let batch = database.makeWriteBatch()
        let sequences = newSequences
        let arrivalAfter = nextArrival
        let written = ConcurrentResults<(any Error)?>(count: 1)
        let database = self.database
        let sync = configuration.durability == .sync
        let isLate = try apply(prepared, now: now) {
            if !accepted.isEmpty {
                batch.put(LogCodec.key(sequence: firstArrival), value: LogCodec.encodeBlock(arrivalTime: now, segments: accepted), in: .log)
            }
            for (producer, sequence) in sequences {
                MetaStore.putProducerSequence(sequence, for: producer, into: batch)
            }
            MetaStore.putNextArrival(arrivalAfter, into: batch)
            do {
                try database.write(batch, sync: sync)
                written.set(0, nil)
            } catch {
                written.set(0, error)
            }
        }
        if let error = written.values[0] {
            throw EngineError(.storage, "writing a batch of \(prepared.count) events: \(error)")
        }
        for (index, owner) in owners.enumerated() {
            outcomes[owner].accepted += 1
            if isLate[index] { outcomes[owner].late += 1 }
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

    /// Applies prepared events to their rows and marks the rows dirty, running `alongside`
    /// (when given) at the same time. Groups are independent, so each group's share runs on a
    /// core of its own: first each group picks its events (its event type, its filter, a non-null
    /// key) and loads the stored rows they need that are not in memory; only once every group
    /// has loaded its rows are events applied, so that a failed load applies nothing. Writer
    /// thread only.
    ///
    /// - Returns: for each event, whether it was too old for every window it feeds (`late`).
    func apply(_ prepared: [PreparedEvent], now: Int64, alongside: (() -> Void)? = nil) throws(EngineError) -> [Bool] {
        var isPresent = [Bool](repeating: false, count: plan.groupsByEvent.count)
        for event in prepared { isPresent[event.eventIndex] = true }
        let fedGroups = plan.groups.indices.filter { isPresent[plan.eventOfGroup[$0]] }
        // Picking events and loading rows needs no lock to read: only this thread's tasks
        // change `tables`, each its own group's.
        let picked = ConcurrentResults<Result<GroupWork, EngineError>>(count: fedGroups.count)
        DispatchQueue.concurrentPerform(iterations: fedGroups.count) { slot in
            picked.set(slot, Result { () throws(EngineError) in try pickEvents(of: fedGroups[slot], from: prepared) })
        }
        var busyWork: [(group: Int, work: GroupWork)] = []
        for (group, result) in zip(fedGroups, picked.values) {
            let work = try result.get()
            if work.count > 0 { busyWork.append((group, work)) }
        }
        // The costliest shares start first; `alongside` goes last, to the core that is free first.
        busyWork.sort { $0.work.count * plan.groups[$0.group].aggregators.count > $1.work.count * plan.groups[$1.group].aggregators.count }
        // Per busy group and event: 0 feeds no window, 1 only too-old tiles, 2 kept by a window.
        let windowUse = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: busyWork.count * prepared.count)
        windowUse.initialize(repeating: 0)
        defer { windowUse.deallocate() }
        let share = GroupShares(
            groups: busyWork.map(\.group), work: busyWork.map(\.work), prepared: prepared, windowUse: windowUse, alongside: alongside)
        let appliedAt = ContinuousClock.now
        // Each group on its own core, taking its table's lock per slice of its events, so that
        // a read waits for one slice at most, and the groups never wait for each other. Each
        // row changes within one slice.
        DispatchQueue.concurrentPerform(iterations: share.groups.count + (alongside == nil ? 0 : 1)) { slot in
            guard slot < share.groups.count else {
                share.alongside?()
                return
            }
            let groupIndex = share.groups[slot]
            let table = tables[groupIndex]
            let base = slot * share.prepared.count
            let work = share.work[slot]
            for sliceStart in stride(from: 0, to: work.count, by: Self.eventsPerLockHold) {
                let slice = sliceStart..<min(sliceStart + Self.eventsPerLockHold, work.count)
                table.lock.withWriterLock {
                    applyToGroup(groupIndex, work, slice, of: share.prepared, now: now, at: appliedAt) { event, use in
                        share.windowUse[base + event] = max(share.windowUse[base + event], use)
                    }
                }
            }
        }
        // Late: some group took the event only into too-old tiles, and none kept it.
        return prepared.indices.map { event in
            var isTooOld = false
            for slot in share.groups.indices {
                switch windowUse[slot * prepared.count + event] {
                case 2: return false
                case 1: isTooOld = true
                default: continue
                }
            }
            return isTooOld
        }
    }

    /// The events of `prepared` that group `groupIndex` takes (its event type, passing its filter,
    /// with no null key field), with their keys; first loads into memory, with one batched
    /// multi-get, the stored rows of those keys that are not in memory.
    private func pickEvents(of groupIndex: Int, from prepared: [PreparedEvent]) throws(EngineError) -> GroupWork {
        let group = plan.groups[groupIndex]
        let eventIndex = plan.eventOfGroup[groupIndex]
        let keyFieldIndices = group.definition.keyFieldIndices
        var work = GroupWork(keys: KeyBatch(reservingCapacity: prepared.count, bytesPerKey: 16))
        work.events.reserveCapacity(prepared.count)
        for (position, event) in prepared.enumerated() where event.eventIndex == eventIndex {
            if let filter = group.definition.filter, !filter.evaluate(event.fields) { continue }
            guard work.keys.appendKey(of: event.fields, at: keyFieldIndices) else { continue }
            work.events.append(position)
        }
        let table = tables[groupIndex]
        // A group holding every stored row has nothing to load: a row it lacks is new.
        guard !table.holdsEveryStoredRow else { return work }
        let missing = work.keys.withKeys { keyAt in
            Set((0..<work.count).lazy.map(keyAt).filter { !table.rows.contains($0) }.map { Array($0) })
        }
        guard !missing.isEmpty else { return work }
        let stored = try storedRows(Array(missing), of: groupIndex)
        table.lock.withWriterLock {
            for (key, row, bytes) in stored {
                table.insertStoredRow(row, key: key, size: Self.estimatedMemory(ofEncodedBytes: bytes))
            }
        }
        return work
    }

    /// Applies the events of `range` of one group's share of a batch, in event order, at
    /// `appliedAt`; reports per event how its windows took it. An event a row already holds
    /// (replaying the log over a row written after it) is skipped.
    private func applyToGroup(
        _ groupIndex: Int, _ work: GroupWork, _ range: Range<Int>, of prepared: [PreparedEvent],
        now: Int64, at appliedAt: ContinuousClock.Instant,
        report: (_ event: Int, _ windowUse: UInt8) -> Void
    ) {
        let group = plan.groups[groupIndex]
        let table = tables[groupIndex]
        let aggregators = group.aggregators
        let filters = group.definition.aggregates.map(\.filter)
        let isWindowed = group.isWindowed
        let slots = table.rows.slots(of: work.keys, range: range) { Row(emptyOf: group) }
        let times = range.map { prepared[work.events[$0]].time }
        let pipeline = RowPrefetchPipeline.applying
        // Rows are read unretained: the table holds them, and no row is inserted or removed
        // while the events apply.
        table.rows.withUnretainedRows { rowsBySlot in
            slots.withUnsafeBufferPointer { slots in
                aggregators.withUnretainedElements { unretainedAggregators in
                    pipeline.forEachRow(
                        count: slots.count, aggregators: unretainedAggregators,
                        rowAddress: { UnsafeRawPointer(rowsBySlot[Int(slots[$0])].toOpaque()) }, eventTime: { times[$0] }
                    ) { offset in
                        let eventIndex = work.events[range.lowerBound + offset]
                        let item = prepared[eventIndex]
                        rowsBySlot[Int(slots[offset])]._withUnsafeGuaranteedRef { row in
                            guard item.arrival >= row.nextArrival else { return }
                            if now >= group.expiresAt(newestEventTime: row.newestEventTime) {
                                // An expired row (not swept yet) starts afresh, as a removed one would.
                                row.states = aggregators.map { $0.makeState() }
                                row.newestEventTime = .min
                            }
                            var use: UInt8 = 0
                            row.states.withUnretainedElements { states in
                                for index in aggregators.indices {
                                    if let filter = filters[index], !filter.evaluate(item.fields) { continue }
                                    let result = unretainedAggregators[index]._withUnsafeGuaranteedRef { aggregator in
                                        states[index]._withUnsafeGuaranteedRef { state in
                                            aggregator.add(item.fields, time: item.time, arrival: item.arrival, now: now, to: state)
                                        }
                                    }
                                    if isWindowed[index] && result != .skipped {
                                        use = max(use, result == .kept ? 2 : 1)
                                    }
                                }
                            }
                            report(eventIndex, use)
                            table.cache.invalidate(slot: Int(row.slot))
                            table.eviction.markReferenced(slot: Int(row.slot))
                            row.newestEventTime = max(row.newestEventTime, item.time)
                            row.nextArrival = item.arrival + 1
                            table.markDirty(row, arrival: item.arrival, at: appliedAt)
                        }
                    }
                }
            }
        }
    }

    /// The settled `seq` of a producer (writer thread).
    private func settledSequence(of producer: String) -> UInt64 {
        settledLock.withLock { settledSequences[producer] ?? 0 }
    }

    /// The rows of `keys` of group `groupIndex` stored in RocksDB (one batched multi-get), with
    /// their encoded sizes; keys with no stored row are left out.
    func storedRows(_ keys: [[UInt8]], of groupIndex: Int) throws(EngineError) -> [(key: [UInt8], row: Row, bytes: Int)] {
        let group = plan.groups[groupIndex]
        let values: [[UInt8]?]
        do {
            values = try database.batchedMultiGet(keys.map { RowKey.make(groupID: group.definition.id, entityKey: $0) }, in: .rows)
        } catch {
            throw EngineError(.storage, "loading rows of \(group.definition.name): \(error)")
        }
        var rows: [(key: [UInt8], row: Row, bytes: Int)] = []
        for (key, value) in zip(keys, values) {
            guard let value else { continue }
            rows.append((key, try Row(decoding: value, of: group), value.count))
        }
        return rows
    }

    /// Rows loaded for reads between two checks for reads in progress.
    static let rowsLoadedPerStep = 32
    /// Rows loaded for reads per writer turn, at most: decoding one takes microseconds, and
    /// commits wait meanwhile.
    static let rowsLoadedPerTurn = 4_096

    /// Brings into memory the stored rows that reads asked for (``requestRowLoads(_:group:)``)
    /// and no event has loaded meanwhile, as used rows. Only while no read is in progress
    /// (reads go first: decoding rows would take a core from them), `rowsLoadedPerStep` at a
    /// time, at most `rowsLoadedPerTurn` per call, and only while they fit in the memory budget
    /// (beyond it, reads of them stay on the cold path rather than evict other rows). Writer
    /// thread.
    func loadRequestedRows() throws(EngineError) {
        var room = configuration.rowMemoryBudget.map { $0 - tables.reduce(0) { $0 + $1.eviction.totalBytes } } ?? .max
        var loaded = 0
        while loaded < Self.rowsLoadedPerTurn, readsInProgress.load(ordering: .acquiring) == 0, !rowLoads.isEmpty {
            for (groupIndex, keys) in rowLoads.take(atMost: Self.rowsLoadedPerStep).enumerated() where !keys.isEmpty && room > 0 {
                let table = tables[groupIndex]
                let stored = try storedRows(keys.filter { !table.rows.contains($0) }, of: groupIndex)
                loaded += keys.count
                table.lock.withWriterLock {
                    for (key, row, bytes) in stored {
                        let size = Self.estimatedMemory(ofEncodedBytes: bytes)
                        guard size <= room else { break }
                        room -= size
                        table.insertStoredRow(row, key: key, size: size)
                        table.eviction.markReferenced(slot: Int(row.slot))
                    }
                }
            }
            if room <= 0 { loaded = Self.rowsLoadedPerTurn }
        }
    }
}
