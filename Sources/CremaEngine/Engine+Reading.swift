import CremaAggregation
import CremaSpec
import CremaStorage

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
            references.append(FeatureReference(name: name, group: group, aggregate: aggregate, feature: found.featureIndex))
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
    /// An id with no row in a feature's group reads as null. Ids are given as key parts; an int
    /// key may be given as a string of digits and a string key as an int.
    /// An id of the wrong shape is a `.badRequest` naming it by `idName` (`ids[3]`).
    /// - Returns: one column per feature, one value per id, in request order.
    /// - Complexity: O(ids × features); rows not in memory cost one batched RocksDB read per group.
    public func read(
        ids: [[EntityKeyPart]], features: [FeatureReference], at time: Int64? = nil,
        idName: (Int) -> String = { "ids[\($0)]" }
    ) throws(EngineError) -> [[FeatureValue]] {
        let time = time ?? configuration.clock()
        // Column-major: the values of feature c are at c * ids.count ..< (c + 1) * ids.count.
        let output = UnsafeMutableBufferPointer<FeatureValue>.allocate(capacity: ids.count * features.count)
        output.initialize(repeating: .null)
        defer {
            _ = output.deinitialize()
            output.deallocate()
        }
        for groupIndex in Set(features.map(\.group)).sorted() {
            let wanted = features.indices.filter { features[$0].group == groupIndex }
            let keys = try keyBatch(ids, for: plan.groups[groupIndex], idName: idName)
            let absent = stateLock.withLock {
                readInMemory(keys, of: groupIndex, features: features, wanted: wanted, at: time, into: output)
            }
            guard !absent.isEmpty else { continue }
            try readStored(absent, keys: keys, of: groupIndex, features: features, wanted: wanted, at: time, into: output)
        }
        return features.indices.map { column in
            Array(output[(column * ids.count)..<((column + 1) * ids.count)])
        }
    }

    /// Fills the `wanted` features of the keys whose rows are in memory, in phases: look every
    /// key up, copy each feature's cached values (`ResultCache`), then compute the values the
    /// cache lacks from the rows' states and cache them. The caller holds the state lock.
    ///
    /// - Returns: the positions of the keys with no row in memory.
    private func readInMemory(
        _ keys: KeyBatch, of groupIndex: Int, features: [FeatureReference], wanted: [Int], at time: Int64,
        into output: UnsafeMutableBufferPointer<FeatureValue>
    ) -> [Int] {
        let group = plan.groups[groupIndex]
        let table = tables[groupIndex]
        let slots = table.rows.slots(of: keys)
        let rows = table.rows.rows
        guard !rows.isEmpty else { return Array(slots.indices) }
        table.cache.reserve(slot: rows.count - 1)
        var missing: [(position: Int, column: Int)] = []
        table.cache.withValues(at: time) { cache in
            slots.withUnsafeBufferPointer { slots in
                for column in wanted {
                    let reference = features[column]
                    let columnOutput = UnsafeMutableBufferPointer(rebasing: output[(column * keys.count)..<((column + 1) * keys.count)])
                    cache.gather(feature: group.featureBase[reference.aggregate] + reference.feature, slots: slots, into: columnOutput) {
                        missing.append(($0, column))
                    }
                }
            }
            for (position, column) in missing {
                let reference = features[column]
                let slot = Int(slots[position])
                let value = group.aggregators[reference.aggregate].result(
                    of: rows[slot].states[reference.aggregate], feature: reference.feature, at: time
                )
                cache.store(value, slot: slot, feature: group.featureBase[reference.aggregate] + reference.feature)
                output[column * keys.count + position] = value
            }
        }
        return slots.indices.filter { slots[$0] < 0 }
    }

    /// Reads the rows at `positions` of `keys` from RocksDB (one batched multi-get), decoding
    /// only the sections of the aggregates asked for, and fills their values in `columns`.
    private func readStored(
        _ positions: [Int], keys: KeyBatch, of groupIndex: Int, features: [FeatureReference], wanted: [Int],
        at time: Int64, into output: UnsafeMutableBufferPointer<FeatureValue>
    ) throws(EngineError) {
        let group = plan.groups[groupIndex]
        let stored: [[UInt8]?]
        do {
            stored = try database.batchedMultiGet(
                positions.map { RowKey.make(groupID: group.definition.id, entityKey: keys.key(at: $0)) }, in: .rows
            )
        } catch {
            throw EngineError(.storage, "reading rows of \(group.definition.name): \(error)")
        }
        let aggregates = Array(Set(wanted.map { features[$0].aggregate })).sorted()
        let stateOfAggregate = Dictionary(uniqueKeysWithValues: aggregates.enumerated().map { ($1, $0) })
        for (position, value) in zip(positions, stored) {
            guard let value else { continue }
            let states = try Row.decode(value, of: group, aggregates: aggregates).states
            for column in wanted {
                let reference = features[column]
                output[column * keys.count + position] = group.aggregators[reference.aggregate].result(
                    of: states[stateOfAggregate[reference.aggregate]!], feature: reference.feature, at: time
                )
            }
        }
    }

    /// Checks that every id has the shape of `entity`'s key (as a read would), for requests
    /// that read no feature of it; an id of the wrong shape is a `.badRequest` naming it by `idName`.
    /// - Complexity: O(ids).
    public func validate(
        ids: [[EntityKeyPart]], of entity: String, idName: (Int) -> String = { "ids[\($0)]" }
    ) throws(EngineError) {
        guard let group = plan.groups.first(where: { $0.definition.entity == entity }) else { return }
        for (index, id) in ids.enumerated() {
            _ = try keyParts(id, for: group, name: idName(index))
        }
    }

    /// The stored entity keys of `ids` in `group`, with their hashes.
    private func keyBatch(_ ids: [[EntityKeyPart]], for group: GroupPlan, idName: (Int) -> String) throws(EngineError) -> KeyBatch {
        var batch = KeyBatch(reservingCapacity: ids.count, bytesPerKey: 16)
        for (index, id) in ids.enumerated() {
            batch.append(try keyParts(id, for: group, name: idName(index)))
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
