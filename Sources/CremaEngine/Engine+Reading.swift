import CremaAggregation
import CremaSpec
import CremaStorage
import Foundation

extension Engine {
    /// Resolves feature names of `entity`; an unknown name, or one of another entity, is a
    /// `.badRequest` naming it.
    public func resolve(features names: [String], of entity: String) throws(EngineError) -> [FeatureReference] {
        guard spec.entities.contains(where: { $0.name == entity }) else {
            throw EngineError(.badRequest, "unknown entity \"\(entity)\"")
        }
        var references: [FeatureReference] = []
        for name in names {
            guard let found = spec.feature(named: name), let group = plan.groupIndex(named: found.group.name),
                  let aggregate = found.group.aggregates.firstIndex(where: { $0.id == found.aggregate.id })
            else {
                throw EngineError(.badRequest, "unknown feature \"\(name)\"")
            }
            guard found.group.entity == entity else {
                throw EngineError(.badRequest, "feature \"\(name)\" belongs to entity \"\(found.group.entity)\", not \"\(entity)\"")
            }
            references.append(FeatureReference(
                name: name, group: group, aggregate: aggregate, feature: found.featureIndex,
                kind: ScalarKind(operation: found.aggregate.operation, fieldTypes: found.aggregate.fieldTypes)
            ))
        }
        return references
    }

    /// Every feature of `entity`, in spec order.
    public func allFeatures(of entity: String) throws(EngineError) -> [FeatureReference] {
        let names = spec.groups.filter { $0.entity == entity }.flatMap { group in
            group.aggregates.flatMap { aggregate in aggregate.featureNames.map { "\(group.name).\($0)" } }
        }
        return try resolve(features: names, of: entity)
    }

    /// Reads `features` of each id at `time` (the server clock when nil).
    ///
    /// An id with no row in a feature's group reads as null. An int key may be given as a string
    /// of digits and a string key as an int. An id of the wrong shape is a `.badRequest` naming
    /// it by `idName` (`ids[3]`).
    /// - Returns: one column per feature, one value per id, in request order.
    /// - Complexity: O(ids × features); rows not in memory cost one batched RocksDB read per group.
    public func read(
        ids: EntityIDs, features: [FeatureReference], at time: Int64? = nil,
        idName: (Int) -> String = { "ids[\($0)]" }
    ) throws(EngineError) -> [FeatureColumn] {
        let time = time ?? configuration.clock()
        readsInProgress.add(1, ordering: .releasing)
        defer { readsInProgress.subtract(1, ordering: .releasing) }
        // Each group's reading initializes its features' columns.
        let output = ReadOutput(count: ids.count, features: features)
        var initialized: [Int] = []
        do {
            for groupIndex in Set(features.map(\.group)).sorted() {
                let wanted = features.indices.filter { features[$0].group == groupIndex }
                let keys = try keyBatch(ids, for: plan.groups[groupIndex], idName: idName)
                let (absent, holdsEveryStoredRow) = tables[groupIndex].lock.withReaderLock {
                    (
                        readInMemory(keys, of: groupIndex, features: features, wanted: wanted, at: time, into: output),
                        tables[groupIndex].holdsEveryStoredRow
                    )
                }
                initialized += wanted
                guard !absent.isEmpty, !holdsEveryStoredRow else { continue }
                let stored = try readStored(absent, keys: keys, of: groupIndex, features: features, wanted: wanted, at: time, into: output)
                // The next reads of these rows are served from memory, once the writer loads them.
                requestRowLoads(stored.map { keys.key(at: $0) }, group: groupIndex)
            }
        } catch {
            output.discard(initialized: initialized)
            throw error
        }
        return output.takeColumns()
    }

    /// Reads `features` of each id, given as key parts, at `time`; see `read(ids:features:at:idName:)`.
    public func read(
        ids: [[EntityKeyPart]], features: [FeatureReference], at time: Int64? = nil,
        idName: (Int) -> String = { "ids[\($0)]" }
    ) throws(EngineError) -> [FeatureColumn] {
        try read(ids: .parts(ids), features: features, at: time, idName: idName)
    }

    /// Initializes the `wanted` columns of `output`: values of the keys whose rows are in memory,
    /// null for the others. In phases: look every key up, copy each feature's cached values
    /// (`ResultCache`), then compute the values the cache lacks from the rows' states and cache
    /// them. The caller holds the table's lock.
    ///
    /// - Returns: the positions of the keys with no row in memory.
    private func readInMemory(
        _ keys: KeyBatch, of groupIndex: Int, features: [FeatureReference], wanted: [Int], at time: Int64,
        into output: ReadOutput
    ) -> [Int] {
        let group = plan.groups[groupIndex]
        let table = tables[groupIndex]
        let rows = table.rows.rows
        guard !rows.isEmpty else {
            for column in wanted { output.initializeNull(column: column) }
            return Array(0..<keys.count)
        }
        table.cache.reserve(slot: rows.count - 1)
        table.eviction.reserve(slot: rows.count - 1)
        let slots = UnsafeMutableBufferPointer<Int32>.allocate(capacity: keys.count)
        // One flag per (position, wanted feature) whose value the cache lacks.
        let lacking = UnsafeMutableBufferPointer<Bool>.allocate(capacity: keys.count * wanted.count)
        lacking.initialize(repeating: false)
        defer {
            slots.deallocate()
            lacking.deallocate()
        }
        let targets = wanted.map { column in
            (column: column, aggregate: features[column].aggregate, window: features[column].feature,
             feature: group.featureBase[features[column].aggregate] + features[column].feature)
        }
        // Large batches split across cores: looking up and copying cached values by position.
        let chunks = Self.chunks(of: keys.count, minimum: 2_048)
        let count = keys.count
        var absent: [Int] = []
        table.cache.withValues(at: time) { cache in
            table.eviction.withReferencedBits { referenced in
                let shared = ReadChunks(
                    index: table.rows, rows: rows, cache: cache, slots: slots, output: output, lacking: lacking, referenced: referenced
                )
                DispatchQueue.concurrentPerform(iterations: chunks.count) { chunk in
                    let range = chunks[chunk]
                    shared.index.lookUp(keys, range: range, into: shared.slots)
                    let chunkSlots = UnsafeBufferPointer(rebasing: shared.slots[range])
                    for (index, target) in targets.enumerated() {
                        let markLacking = { (position: Int) in shared.lacking[(range.lowerBound + position) * targets.count + index] = true }
                        if let kind = shared.output.kinds[target.column] {
                            let (payloads, isPresent) = shared.output.scalars(of: target.column)
                            shared.cache.gatherScalars(
                                feature: target.feature, kind: kind, slots: chunkSlots, payloads: payloads + range.lowerBound,
                                isPresent: isPresent + range.lowerBound, missing: markLacking
                            )
                        } else {
                            let columnOutput = UnsafeMutableBufferPointer(start: shared.output.boxed(of: target.column) + range.lowerBound, count: range.count)
                            shared.cache.gather(feature: target.feature, slots: chunkSlots, into: columnOutput, missing: markLacking)
                        }
                    }
                }
                // On this core: mark every row read as used (for the eviction clock), list the
                // positions with a value the cache lacks and those with no row; one pass.
                var lackingPositions: [Int] = []
                for position in 0..<count {
                    let slot = Int(shared.slots[position])
                    guard slot >= 0 else {
                        absent.append(position)
                        continue
                    }
                    shared.referenced[slot >> 6] |= 1 << UInt64(slot & 63)
                    let flags = position * targets.count
                    if shared.lacking[flags..<(flags + targets.count)].contains(true) { lackingPositions.append(position) }
                }
                guard !lackingPositions.isEmpty else { return }
                let positions = lackingPositions
                // Each core computes the values of the rows it owns by slot: no two store into
                // one row's cache, even when an id repeats.
                let parts = Self.chunks(of: positions.count, minimum: 256).count
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    // Rows a few ahead are prefetched (their states and newest tiles), so that the
                    // misses of several rows overlap. Rows, states and aggregators are used
                    // unretained (the read lock keeps them): a retain waits for its line.
                    let owned = positions.filter { Int(shared.slots[$0]) % parts == part }
                    let pipeline = RowPrefetchPipeline.encoding
                    shared.rows.withUnretainedElements { rows in
                        group.aggregators.withUnretainedElements { aggregators in
                            pipeline.forEachRow(
                                count: owned.count, aggregators: aggregators,
                                rowAddress: { UnsafeRawPointer(rows[Int(shared.slots[owned[$0]])].toOpaque()) }, eventTime: { _ in time }
                            ) { offset in
                                let position = owned[offset]
                                let slot = Int(shared.slots[position])
                                rows[slot]._withUnsafeGuaranteedRef { row in
                                    let expiresAt = group.expiresAt(newestEventTime: row.newestEventTime)
                                    let flags = position * targets.count
                                    row.states.withUnretainedElements { states in
                                        for (index, target) in targets.enumerated() where shared.lacking[flags + index] {
                                            let value: FeatureValue = time >= expiresAt
                                                ? .null
                                                : aggregators[target.aggregate]._withUnsafeGuaranteedRef { aggregator in
                                                    states[target.aggregate]._withUnsafeGuaranteedRef { state in
                                                        aggregator.result(of: state, feature: target.window, at: time)
                                                    }
                                                }
                                            shared.cache.store(value, slot: slot, feature: target.feature, expiresAt: expiresAt)
                                            shared.output.set(value, column: target.column, position: position)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return absent
    }

    /// The cores reads split across; read once (asking costs tens of microseconds).
    private static let processorCount = ProcessInfo.processInfo.activeProcessorCount

    /// Ranges splitting `0..<count` into one per core when each gets at least `minimum`, else one.
    private static func chunks(of count: Int, minimum: Int) -> [Range<Int>] {
        let parts = max(1, min(processorCount, count / minimum))
        return (0..<parts).map { part in (count * part / parts)..<(count * (part + 1) / parts) }
    }

    /// Reads the rows at `positions` of `keys` from RocksDB (one batched multi-get per core) and
    /// fills their values in `columns`, reading each feature straight from its aggregate's
    /// encoded section, in place in RocksDB's buffer.
    /// - Returns: The positions whose rows are stored and not expired at `time`, in order.
    private func readStored(
        _ positions: [Int], keys: KeyBatch, of groupIndex: Int, features: [FeatureReference], wanted: [Int],
        at time: Int64, into output: ReadOutput
    ) throws(EngineError) -> [Int] {
        let group = plan.groups[groupIndex]
        let reads = Dictionary(grouping: wanted, by: { features[$0].aggregate }).sorted { $0.key < $1.key }.map { aggregate, columns in
            StoredAggregateRead(
                aggregate: aggregate, id: group.definition.aggregates[aggregate].id,
                features: columns.map { features[$0].feature }, columns: columns)
        }
        // Chunks run on separate cores: each reads its own keys and writes its own positions.
        let chunks = Self.chunks(of: positions.count, minimum: 256)
        let failures = UnsafeMutableBufferPointer<EngineError?>.allocate(capacity: chunks.count)
        failures.initialize(repeating: nil)
        defer {
            _ = failures.deinitialize()
            failures.deallocate()
        }
        let isStored = UnsafeMutableBufferPointer<Bool>.allocate(capacity: positions.count)
        isStored.initialize(repeating: false)
        defer { isStored.deallocate() }
        let shared = StoredChunks(database: database, output: output, failures: failures, isStored: isStored)
        DispatchQueue.concurrentPerform(iterations: chunks.count) { chunk in
            let chunkPositions = Array(positions[chunks[chunk]])
            // This core's own copies of the arrays each row's reads retain (two cores retaining
            // one array wait for its cache line in turn); aggregators are used unretained.
            let reads = reads.map { read in
                StoredAggregateRead(aggregate: read.aggregate, id: read.id, features: read.features.map { $0 }, columns: read.columns.map { $0 })
            }
            group.aggregators.withUnretainedElements { aggregators in
                do {
                    try shared.database.batchedMultiGet(
                        chunkPositions.map { RowKey.make(groupID: group.definition.id, entityKey: keys.key(at: $0)) }, in: .rows
                    ) { index, bytes in
                        let position = chunkPositions[index]
                        let view = try Row.view(of: bytes, in: group)
                        // An expired row not compacted away yet reads as null, like a removed one.
                        if time >= group.expiresAt(newestEventTime: view.newestEventTime) { return }
                        shared.isStored[chunks[chunk].lowerBound + index] = true
                        for read in reads {
                            try aggregators[read.aggregate]._withUnsafeGuaranteedRef { aggregator in
                                guard let section = view.section(for: read.id) else {
                                    let empty = aggregator.makeState()
                                    for (feature, column) in zip(read.features, read.columns) {
                                        shared.output.set(aggregator.result(of: empty, feature: feature, at: time), column: column, position: position)
                                    }
                                    return
                                }
                                do {
                                    try aggregator.readResults(ofEncoded: section, features: read.features, at: time) { slot, value in
                                        shared.output.set(value, column: read.columns[slot], position: position)
                                    }
                                } catch {
                                    throw EngineError(.corruption, "\(group.definition.name).\(group.definition.aggregates[read.aggregate].name): \(error)")
                                }
                            }
                        }
                    }
                } catch let error as EngineError {
                    shared.failures[chunk] = error
                } catch {
                    shared.failures[chunk] = EngineError(.storage, "reading rows of \(group.definition.name): \(error)")
                }
            }
        }
        if let failure = failures.lazy.compactMap({ $0 }).first {
            throw failure
        }
        return positions.indices.filter { isStored[$0] }.map { positions[$0] }
    }

    /// Checks that every id has the shape of `entity`'s key (as a read would), for requests
    /// that read no feature of it; an id of the wrong shape is a `.badRequest` naming it by `idName`.
    /// - Complexity: O(ids).
    public func validate(
        ids: EntityIDs, of entity: String, idName: (Int) -> String = { "ids[\($0)]" }
    ) throws(EngineError) {
        guard let group = plan.groups.first(where: { $0.definition.entity == entity }) else { return }
        _ = try keyBatch(ids, for: group, idName: idName)
    }

    /// The stored entity keys of `ids` in `group`.
    private func keyBatch(_ ids: EntityIDs, for group: GroupPlan, idName: (Int) -> String) throws(EngineError) -> KeyBatch {
        let singleType = group.keyFields.count == 1 ? group.keyFields[0].type : nil
        if case .texts(let texts) = ids, singleType == .string {
            return KeyBatch(stringKeysOf: texts)
        }
        var batch = KeyBatch(reservingCapacity: ids.count, bytesPerKey: 16)
        // The common cases, one part of the stored type, skip building a parts array.
        switch (ids, singleType) {
        case (.numbers(let numbers), .int?):
            for number in numbers { batch.append(.int(number)) }
        case (.texts(let texts), _):
            for (index, text) in texts.enumerated() {
                batch.append(try keyParts([.string(text)], for: group, name: idName(index)))
            }
        case (.numbers(let numbers), _):
            for (index, number) in numbers.enumerated() {
                batch.append(try keyParts([.int(number)], for: group, name: idName(index)))
            }
        case (.parts(let parts), _):
            for (index, id) in parts.enumerated() {
                if id.count == 1, let singleType {
                    switch (singleType, id[0]) {
                    case (.string, .string), (.int, .int):
                        batch.append(id[0])
                        continue
                    default: break
                    }
                }
                batch.append(try keyParts(id, for: group, name: idName(index)))
            }
        }
        return batch
    }

    /// The key parts of `id` (called `name` in errors) in `group`, converting int keys given as
    /// strings and back.
    private func keyParts(_ id: [EntityKeyPart], for group: GroupPlan, name: @autoclosure () -> String) throws(EngineError) -> [EntityKeyPart] {
        let fields = group.keyFields
        guard id.count == fields.count else {
            throw EngineError(.badRequest, "\(name()): entity \"\(group.definition.entity)\" has a key of \(fields.count) part\(fields.count == 1 ? "" : "s"), got \(id.count)")
        }
        let isStored = zip(id, fields).allSatisfy { part, field in
            switch (field.type, part) {
            case (.int, .int), (.string, .string): true
            default: false
            }
        }
        if isStored { return id }
        var parts: [EntityKeyPart] = []
        for (part, field) in zip(id, fields) {
            switch (field.type, part) {
            case (.int, .int), (.string, .string):
                parts.append(part)
            case (.int, .string(let text)):
                guard let value = Int64(text) else {
                    throw EngineError(.badRequest, "\(name()): key \(field.name) of entity \"\(group.definition.entity)\" is an int, got \"\(text)\"")
                }
                parts.append(.int(value))
            case (.string, .int(let value)):
                parts.append(.string(String(value)))
            default:
                throw EngineError(.badRequest, "\(name()): key \(field.name) of entity \"\(group.definition.entity)\" has type \(field.type)")
            }
        }
        return parts
    }
}

/// What the chunks of one read share: each writes only its own ranges of `slots`, `output`
/// and `lacking`, and its own words of `referenced`.
private struct ReadChunks: @unchecked Sendable {
    let index: RowIndex
    let rows: [Row]
    let cache: ResultCache.Access
    let slots: UnsafeMutableBufferPointer<Int32>
    let output: ReadOutput
    let lacking: UnsafeMutableBufferPointer<Bool>
    let referenced: UnsafeMutableBufferPointer<UInt64>
}

/// What the chunks of one RocksDB read share: each writes only its own positions and failure.
private struct StoredChunks: @unchecked Sendable {
    let database: Database
    let output: ReadOutput
    let failures: UnsafeMutableBufferPointer<EngineError?>
    /// By index in the read's positions: whether the row is stored and not expired.
    let isStored: UnsafeMutableBufferPointer<Bool>
}

/// The features of one aggregate that a cold read takes from each stored row.
private struct StoredAggregateRead {
    /// The aggregate's index in its group.
    let aggregate: Int
    /// The aggregate's stable id: its section in a stored row.
    let id: UInt64
    /// The features asked for (window indices, or 0 for lifetime).
    let features: [Int]
    /// The output column of each feature, parallel to `features`.
    let columns: [Int]
}
