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
    /// - Returns: one column per feature, one value per id, in request order.
    /// - Complexity: O(ids × features); rows not in memory cost one batched RocksDB read per group.
    public func read(
        ids: [[EntityKeyPart]], features: [FeatureReference], at time: Int64? = nil
    ) throws(EngineError) -> [[FeatureValue]] {
        let time = time ?? configuration.clock()
        var columns = [[FeatureValue]](repeating: [FeatureValue](repeating: .null, count: ids.count), count: features.count)
        let groups = Set(features.map(\.group)).sorted()
        for groupIndex in groups {
            let group = plan.groups[groupIndex]
            let wanted = features.indices.filter { features[$0].group == groupIndex }
            let keys = try ids.map { id throws(EngineError) in try entityKey(id, for: group) }
            var absent: [Int] = []
            stateLock.withLock {
                for (position, key) in keys.enumerated() {
                    guard let row = tables[groupIndex].rows[key] else {
                        absent.append(position)
                        continue
                    }
                    for column in wanted {
                        let reference = features[column]
                        columns[column][position] = group.result(
                            of: row, aggregate: reference.aggregate, feature: reference.feature, at: time
                        )
                    }
                }
            }
            guard !absent.isEmpty else { continue }
            let stored: [[UInt8]?]
            do {
                stored = try database.batchedMultiGet(
                    absent.map { RowKey.make(groupID: group.definition.id, entityKey: keys[$0]) }, in: .rows
                )
            } catch {
                throw EngineError(.storage, "reading rows of \(group.definition.name): \(error)")
            }
            for (position, value) in zip(absent, stored) {
                guard let value else { continue }
                let row = try Row(decoding: value, of: group)
                for column in wanted {
                    let reference = features[column]
                    columns[column][position] = group.aggregators[reference.aggregate].result(
                        of: row.states[reference.aggregate], feature: reference.feature, at: time
                    )
                }
            }
        }
        return columns
    }

    /// The stored entity key of `id` in `group`, converting int keys given as strings and back.
    private func entityKey(_ id: [EntityKeyPart], for group: GroupPlan) throws(EngineError) -> [UInt8] {
        let fields = group.keyFields
        guard id.count == fields.count else {
            throw EngineError(.badRequest, "entity \"\(group.definition.entity)\" has a key of \(fields.count) part\(fields.count == 1 ? "" : "s"), got \(id.count)")
        }
        var parts: [EntityKeyPart] = []
        for (part, field) in zip(id, fields) {
            switch (field.type, part) {
            case (.int, .int), (.string, .string):
                parts.append(part)
            case (.int, .string(let text)):
                guard let value = Int64(text) else {
                    throw EngineError(.badRequest, "key \(field.name) of entity \"\(group.definition.entity)\" is an int, got \"\(text)\"")
                }
                parts.append(.int(value))
            case (.string, .int(let value)):
                parts.append(.string(String(value)))
            default:
                throw EngineError(.badRequest, "key \(field.name) of entity \"\(group.definition.entity)\" has type \(field.type)")
            }
        }
        return EntityKeyCodec.encode(parts)
    }
}
