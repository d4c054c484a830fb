/// The opaque per-entity state of one aggregate, mutated in place by the single writer.
/// Each aggregator makes and reads its own subclass; the engine never looks inside.
public class AggregateState {
    /// Creates a state; only aggregators do.
    init() {}
}

/// The state of a windowed aggregate: one tile series per distinct hop.
final class TiledAggregateState<State>: AggregateState {
    /// The series, parallel to the layout's hops.
    var series: [TileSeries<State>]

    /// Creates a state with `seriesCount` empty series.
    init(seriesCount: Int) {
        series = Array(repeating: TileSeries(), count: seriesCount)
    }
}

/// The state of a lifetime aggregate: one partial state over every accepted event.
final class LifetimeAggregateState<State>: AggregateState {
    /// The partial state.
    var value: State

    /// Creates a state holding `value`.
    init(_ value: State) {
        self.value = value
    }
}
