import CremaAggregation
import CremaSpec
import CremaStorage

/// The spec compiled for execution: per event type, the groups it feeds, with their aggregators.
struct Plan: Sendable {
    /// The compiled spec the plan was built from.
    let spec: CompiledSpec
    /// Every group, in spec order.
    let groups: [GroupPlan]
    /// For each event type (by index in `spec.events`), the indices in `groups` it feeds.
    let groupsByEvent: [[Int]]
    /// For each group, the index in `spec.events` of the event type that feeds it.
    let eventOfGroup: [Int]

    /// Builds the aggregators of every aggregate of `spec`.
    init(spec: CompiledSpec) throws(EngineError) {
        self.spec = spec
        var groups: [GroupPlan] = []
        for group in spec.groups {
            groups.append(try GroupPlan(group: group, spec: spec))
        }
        self.groups = groups
        groupsByEvent = spec.events.map { event in
            groups.indices.filter { groups[$0].definition.event == event.name }
        }
        eventOfGroup = groups.map { group in spec.events.firstIndex { $0.name == group.definition.event } ?? -1 }
    }

    /// The index in `groups` of the group named `name`.
    func groupIndex(named name: String) -> Int? { groups.firstIndex { $0.definition.name == name } }
}

/// One feature group ready to apply events and to read.
struct GroupPlan: Sendable {
    /// The group as the spec defines it.
    let definition: FeatureGroup
    /// One aggregator per aggregate, parallel to `definition.aggregates`.
    let aggregators: [SpecializedAggregator]
    /// Whether each aggregate has windows (an event too old for all of them is `late`).
    let isWindowed: [Bool]
    /// The entity's key fields in the group's event: names and types.
    let keyFields: [EventField]
    /// For each aggregate, the index of its first feature among the group's features.
    let featureBase: [Int]
    /// For each of the group's features, how long its value holds.
    let freshness: [FeatureFreshness]
    /// The aggregate ids in ascending order (a stored row's section order).
    let sortedAggregateIDs: [UInt64]
    /// For each position in `sortedAggregateIDs`, the aggregate's index.
    let aggregateIndicesByID: [Int]
    /// When the group's rows expire; nil when never.
    let expiry: RowExpiry?

    init(group: FeatureGroup, spec: CompiledSpec) throws(EngineError) {
        definition = group
        var aggregators: [SpecializedAggregator] = []
        for aggregate in group.aggregates {
            let inputs = aggregate.fieldIndices.indices.map {
                AggregateInput(index: aggregate.fieldIndices[$0], type: aggregate.fieldTypes[$0], name: aggregate.fieldNames[$0])
            }
            do {
                aggregators.append(try makeAggregator(operation: aggregate.operation, inputs: inputs, windows: aggregate.windows))
            } catch {
                throw EngineError(.badRequest, "\(group.name).\(aggregate.name): \(error)")
            }
        }
        self.aggregators = aggregators
        isWindowed = group.aggregates.map { !$0.windows.isEmpty }
        let event = spec.events.first { $0.name == group.event }
        keyFields = group.keyFieldIndices.compactMap { event?.fields[$0] }
        var base = 0
        var bases: [Int] = []
        var freshness: [FeatureFreshness] = []
        for aggregate in group.aggregates {
            bases.append(base)
            base += max(1, aggregate.windows.count)
            switch aggregate.operation {
            case .decayedCount, .decayedSum: freshness.append(.readTime)
            default:
                freshness += aggregate.windows.isEmpty ? [.anyTime] : aggregate.windows.map { .tiles($0) }
            }
        }
        featureBase = bases
        self.freshness = freshness
        aggregateIndicesByID = group.aggregates.indices.sorted { group.aggregates[$0].id < group.aggregates[$1].id }
        sortedAggregateIDs = aggregateIndicesByID.map { group.aggregates[$0].id }
        expiry = RowExpiry(group: group)
    }

    /// The first read time at which a row whose newest event is at `newestEventTime` is
    /// expired (`Int64.max` when never).
    func expiresAt(newestEventTime: Int64) -> Int64 {
        expiry?.expiresAt(newestEventTime: newestEventTime) ?? .max
    }
}
