/// A feature name resolved against the plan: which group, aggregate and window it reads.
public struct FeatureReference: Sendable, Hashable {
    /// The feature's full name (`video_stats.views_1d`).
    public let name: String
    /// The group's index in the plan.
    let group: Int
    /// The aggregate's index in its group.
    let aggregate: Int
    /// The window's index in the aggregate (0 for a lifetime aggregate).
    let feature: Int
    /// The kind of the feature's values when they are numbers or Booleans.
    let kind: ScalarKind?
}
