import CremaAggregation
import CremaStorage

/// The in-memory state of one entity in one group: one state per aggregate.
///
/// Mutated only by the writer while it holds the engine's state lock; readers take the same lock.
final class Row {
    /// One state per aggregate, parallel to the group's aggregates.
    var states: [AggregateState]
    /// The newest event time applied to the row (ms).
    var newestEventTime: Int64
    /// Whether the row changed since the last checkpoint.
    var isDirty = false
    /// Finalized feature values of reads since the row last changed.
    var cache: ResultCache?

    init(states: [AggregateState], newestEventTime: Int64) {
        self.states = states
        self.newestEventTime = newestEventTime
    }

    /// An empty row of `group`.
    convenience init(emptyOf group: GroupPlan) {
        self.init(states: group.aggregators.map { $0.makeState() }, newestEventTime: Int64.min)
    }

    /// Decodes a stored row; aggregates missing from it (new since it was written) start empty.
    convenience init(decoding bytes: [UInt8], of group: GroupPlan) throws(EngineError) {
        let decoded = bytes.withUnsafeBytes { buffer in
            Result { () throws(EngineError) in try Row.decode(buffer, of: group) }
        }
        let (states, newestEventTime) = try decoded.get()
        self.init(states: states, newestEventTime: newestEventTime)
    }

    /// The aggregate states and newest event time stored in `bytes`.
    private static func decode(
        _ bytes: UnsafeRawBufferPointer, of group: GroupPlan
    ) throws(EngineError) -> ([AggregateState], Int64) {
        let view: RowView
        do {
            view = try RowView(bytes: bytes)
        } catch {
            throw EngineError(.corruption, "row of group \(group.definition.name): \(error)")
        }
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
        return (states, view.newestEventTime)
    }

    /// The row's stored form: one section per aggregate, written into one buffer.
    func encode(of group: GroupPlan) -> [UInt8] {
        RowCodec.encode(aggregateIDs: group.sortedAggregateIDs, newestEventTime: newestEventTime) { index, bytes in
            let aggregate = group.aggregateIndicesByID[index]
            group.aggregators[aggregate].encode(states[aggregate], into: &bytes)
        }
    }
}

/// The rows of one group held in memory. The writer changes it while holding the engine's state
/// lock; readers read it under the same lock.
final class GroupTable {
    /// Rows by entity key.
    var rows: [[UInt8]: Row] = [:]
    /// The rows changed since the last checkpoint, each once.
    var dirty: [(key: [UInt8], row: Row)] = []

    /// Records that `row` changed (once until the next checkpoint).
    func markDirty(_ row: Row, key: [UInt8]) {
        guard !row.isDirty else { return }
        row.isDirty = true
        dirty.append((key, row))
    }
}
