extension CompiledSpec {
    /// "N groups, M features", counting every served feature name (one per window, one per lifetime aggregate).
    public var summary: String {
        let features = groups.reduce(0) { total, group in
            total + group.aggregates.reduce(0) { $0 + $1.featureNames.count }
        }
        return "\(groups.count) \(groups.count == 1 ? "group" : "groups"), \(features) \(features == 1 ? "feature" : "features")"
    }

    /// Resolves a served feature name, `group.aggregate_window` or `group.aggregate` (lifetime).
    ///
    /// `featureIndex` is the index into `aggregate.windows`, or 0 for a lifetime aggregate.
    /// - Complexity: O(aggregates and windows of the group).
    public func feature(named name: String) -> (group: FeatureGroup, aggregate: AggregateDefinition, featureIndex: Int)? {
        guard let dot = name.firstIndex(of: "."),
              let group = groups.first(where: { $0.name == name[..<dot] }) else { return nil }
        let featureName = name[name.index(after: dot)...]
        for aggregate in group.aggregates {
            if let index = aggregate.featureNames.firstIndex(where: { $0 == featureName }) {
                return (group, aggregate, index)
            }
        }
        return nil
    }

    /// The entity named `name`.
    public func entity(named name: String) -> EntityDefinition? { entities.first { $0.name == name } }

    /// The event type named `name`.
    public func event(named name: String) -> EventSchema? { events.first { $0.name == name } }

    /// The feature group named `name`.
    public func group(named name: String) -> FeatureGroup? { groups.first { $0.name == name } }
}
