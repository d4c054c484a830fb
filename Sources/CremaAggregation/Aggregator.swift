/// One compiled aggregate (built once per spec aggregate by `makeAggregator`); it owns no
/// per-entity state but makes, updates, reads, encodes and merges `AggregateState`s.
public protocol Aggregator: Sendable {
    /// One feature per window, in the order given, or one lifetime feature when there are no windows.
    var featureCount: Int { get }

    /// A state holding no events.
    func makeState() -> AggregateState

    /// The bytes of the objects `makeState` and `decode` make (their header and fields), so
    /// that a prefetch brings in every line of one, however it sits across lines.
    var stateObjectBytes: Int { get }

    /// Adds one event. `fields` is the whole decoded event (indexed by `AggregateInput.index`);
    /// `time` is the event time, `arrival` a global increasing sequence number, `now` the
    /// server clock (it drives retention and lateness).
    func add(_ fields: [FieldValue], time: Int64, arrival: UInt64, now: Int64, to state: AggregateState) -> AddOutcome

    /// Prefetches the memory an `add` of an event at `time` to `state` will touch (`Int64.max`:
    /// the newest tiles), one dependent step per `depth` (0 up to `Prefetch.depths - 1`), each
    /// a few events after the one before: the engine calls it ahead of applying events to rows
    /// much larger than the caches. A hint: it changes nothing.
    func prefetch(_ state: AggregateState, depth: Int, time: Int64)

    /// The value of feature `feature` (an index into the windows, or 0 for lifetime) read at `time`.
    func result(of state: AggregateState, feature: Int, at time: Int64) -> FeatureValue

    /// Calls `body(i, value)` with the value of feature `features[i]` read at `time`, for each i,
    /// straight from an encoding written by `encode(_:into:)`: the same values as `decode` then
    /// `result`, without building the state (a cold read decodes each stored row once).
    func readResults(
        ofEncoded bytes: UnsafeRawBufferPointer, features: [Int], at time: Int64,
        _ body: (_ index: Int, _ value: FeatureValue) -> Void
    ) throws(AggregationError)

    /// Appends the state's encoding, starting with the format version byte.
    func encode(_ state: AggregateState, into bytes: inout [UInt8])

    /// Reads a state written by `encode(_:into:)` of this or an older format version.
    func decode(_ bytes: UnsafeRawBufferPointer) throws(AggregationError) -> AggregateState

    /// Drops tiles no window needs at `now`; returns true when nothing is left (no tiles and no lifetime data).
    func evict(_ state: AggregateState, now: Int64) -> Bool

    /// Merges `other` into `state` (backfill and training data combine partial states).
    func merge(_ other: AggregateState, into state: AggregateState)
}
