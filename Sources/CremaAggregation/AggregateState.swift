/// The opaque per-entity state of one aggregate, mutated in place by the single writer.
/// Each aggregator makes and reads its own subclass; the engine never looks inside.
public class AggregateState {
    /// Creates a state; only aggregators do.
    init() {}
}

/// The state of a windowed aggregate: one tile series per distinct hop. The first series is
/// stored in the object itself (most aggregates have one hop), the others in an array.
final class TiledAggregateState<State>: AggregateState {
    /// Series 0.
    private var first = TileSeries<State>()
    /// Series 1 onwards; empty (no allocation) for a single hop.
    private var others: [TileSeries<State>]

    /// Creates a state with `seriesCount` (at least 1) empty series.
    init(seriesCount: Int) {
        others = Array(repeating: TileSeries(), count: max(seriesCount - 1, 0))
    }

    /// The series of hop `index` (parallel to the layout's hops), mutated in place.
    subscript(series index: Int) -> TileSeries<State> {
        @inline(__always) get { index == 0 ? first : others[index - 1] }
        @inline(__always) _modify {
            if index == 0 {
                yield &first
            } else {
                yield &others[index - 1]
            }
        }
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
