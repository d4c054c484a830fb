/// The opaque per-entity state of one aggregate, mutated in place by the single writer.
/// Each aggregator makes and reads its own subclass; the engine never looks inside.
public class AggregateState {
    /// Creates a state; only aggregators do.
    init() {}

    /// The bytes of a Swift object's header (its metadata pointer and reference counts), before
    /// its fields.
    static let headerBytes = 16
}

/// The state of a windowed aggregate: one tile series per distinct hop. The first series is
/// stored in the object itself (most aggregates have one hop), the others in an array.
final class TiledAggregateState<State>: AggregateState {
    /// Series 0.
    @exclusivity(unchecked) private var first: TileSeries<State>
    /// Series 1 onwards; empty (no allocation) for a single hop.
    @exclusivity(unchecked) private var others: [TileSeries<State>]

    /// The bytes of an instance: the header, then the fields laid out in order.
    static var instanceBytes: Int { headerBytes + MemoryLayout<(TileSeries<State>, [TileSeries<State>])>.size }

    /// Creates a state with `seriesCount` (at least 1) empty series of kernel state `empty`.
    init(seriesCount: Int, empty: State) {
        first = TileSeries(empty: empty)
        others = Array(repeating: TileSeries(empty: empty), count: max(seriesCount - 1, 0))
    }

    /// Prefetches, from raw memory, what adding an event at `time` reads, one dependent step
    /// per `depth` (see `Aggregator.prefetch`): series 0 (of hop `hops[0]`, in the object)
    /// from depth 0, series 1 onwards (held in a second buffer) one step later, `contents` and
    /// `furtherContents` on the address of the state of the event's tile (see `TileSeries.prefetch`).
    @inline(__always)
    func prefetch(
        depth: Int, hops: [Int64], time: Int64, contents: (UnsafeRawPointer) -> Void, furtherContents: (UnsafeRawPointer) -> Void
    ) {
        let seriesCount = hops.count
        withUnsafeMutablePointer(to: &first) {
            TileSeries<State>.prefetch(
                seriesAt: UnsafeRawPointer($0), depth: depth, index: floorDivide(time, hops[0]), contents: contents,
                furtherContents: furtherContents)
        }
        guard seriesCount > 1 else { return }
        let storage = withUnsafeMutablePointer(to: &others) { Prefetch.storage(ofCollectionAt: UnsafeRawPointer($0)) }
        let stride = MemoryLayout<TileSeries<State>>.stride
        guard depth > 0 else {
            Prefetch.lines((Prefetch.arrayElementsOffset &+ (seriesCount &- 1) &* stride &+ Prefetch.lineBytes &- 1) / Prefetch.lineBytes, from: storage)
            return
        }
        let elements = storage + Prefetch.arrayElementsOffset
        for index in 0..<(seriesCount &- 1) {
            TileSeries<State>.prefetch(
                seriesAt: elements + index &* stride, depth: depth &- 1, index: floorDivide(time, hops[index &+ 1]), contents: contents,
                furtherContents: furtherContents)
        }
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

    /// Calls `body` with the address of the series of hop `index`, for reading in place: no
    /// copy of the series, and no mutable access (which would copy `others` while a reader
    /// holds it too).
    @inline(__always)
    func withSeries<Result>(_ index: Int, _ body: (UnsafeMutablePointer<TileSeries<State>>) -> Result) -> Result {
        if index == 0 { return withUnsafeMutablePointer(to: &first, body) }
        return others.withUnsafeBufferPointer { body(UnsafeMutablePointer(mutating: $0.baseAddress! + (index - 1))) }
    }
}

/// The state of a lifetime aggregate: one partial state over every accepted event.
final class LifetimeAggregateState<State>: AggregateState {
    /// The partial state.
    @exclusivity(unchecked) var value: State

    /// The bytes of an instance: the header, then the value.
    static var instanceBytes: Int { headerBytes + MemoryLayout<State>.size }

    /// Creates a state holding `value`.
    init(_ value: State) {
        self.value = value
    }

    /// The address of `value`, for prefetch hints.
    @inline(__always)
    var valueAddress: UnsafeRawPointer { withUnsafeMutablePointer(to: &value) { UnsafeRawPointer($0) } }
}
