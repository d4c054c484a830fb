/// An aggregator whose every requirement is a closure made while the compiler still knows
/// the concrete kernel, so each call runs code specialized for it. (Called through `any
/// Aggregator`, the generic `WindowedAggregator<Kernel>` conformance itself would run
/// unspecialized, dispatching every add and merge through witness tables: about ten times slower.)
/// A class, so that calling one out of an array copies nothing: an `any Aggregator` holding
/// its ten closures was copied (a retain and a release) around every call.
public final class SpecializedAggregator: Aggregator {
    /// One feature per window, or one lifetime feature.
    public let featureCount: Int
    /// `stateObjectBytes` of the base.
    public let stateObjectBytes: Int
    /// `makeState()` of the base.
    private let makeStateBody: @Sendable () -> AggregateState
    /// `add` of the base.
    private let addBody: @Sendable ([FieldValue], Int64, UInt64, Int64, AggregateState) -> AddOutcome
    /// `prefetch` of the base.
    private let prefetchBody: @Sendable (AggregateState, Int, Int64) -> Void
    /// `result` of the base.
    private let resultBody: @Sendable (AggregateState, Int, Int64) -> FeatureValue
    /// `readResults` of the base.
    private let readResultsBody: @Sendable (
        UnsafeRawBufferPointer, [Int], Int64, (Int, FeatureValue) -> Void
    ) throws(AggregationError) -> Void
    /// `encode` of the base.
    private let encodeBody: @Sendable (AggregateState, inout [UInt8]) -> Void
    /// `decode` of the base.
    private let decodeBody: @Sendable (UnsafeRawBufferPointer) throws(AggregationError) -> AggregateState
    /// `evict` of the base.
    private let evictBody: @Sendable (AggregateState, Int64) -> Bool
    /// `merge` of the base.
    private let mergeBody: @Sendable (AggregateState, AggregateState) -> Void

    /// Wraps `base`; call it with a concrete type so the closures are specialized.
    init<Base: Aggregator>(_ base: Base) {
        featureCount = base.featureCount
        stateObjectBytes = base.stateObjectBytes
        makeStateBody = { base.makeState() }
        addBody = { base.add($0, time: $1, arrival: $2, now: $3, to: $4) }
        prefetchBody = { base.prefetch($0, depth: $1, time: $2) }
        resultBody = { base.result(of: $0, feature: $1, at: $2) }
        readResultsBody = { (bytes, features, time, body) throws(AggregationError) in
            try base.readResults(ofEncoded: bytes, features: features, at: time, body)
        }
        encodeBody = { base.encode($0, into: &$1) }
        decodeBody = { (bytes) throws(AggregationError) in try base.decode(bytes) }
        evictBody = { base.evict($0, now: $1) }
        mergeBody = { base.merge($0, into: $1) }
    }

    /// A state holding no events.
    public func makeState() -> AggregateState { makeStateBody() }

    /// Adds one event (see `Aggregator.add`).
    public func add(_ fields: [FieldValue], time: Int64, arrival: UInt64, now: Int64, to state: AggregateState) -> AddOutcome {
        addBody(fields, time, arrival, now, state)
    }

    /// Prefetches what an add will touch (see `Aggregator.prefetch`).
    public func prefetch(_ state: AggregateState, depth: Int, time: Int64) { prefetchBody(state, depth, time) }

    /// Reads one feature (see `Aggregator.result`).
    public func result(of state: AggregateState, feature: Int, at time: Int64) -> FeatureValue {
        resultBody(state, feature, time)
    }

    /// Reads features straight from an encoded state (see `Aggregator.readResults`).
    public func readResults(
        ofEncoded bytes: UnsafeRawBufferPointer, features: [Int], at time: Int64, _ body: (Int, FeatureValue) -> Void
    ) throws(AggregationError) {
        try readResultsBody(bytes, features, time, body)
    }

    /// Appends the state's encoding.
    public func encode(_ state: AggregateState, into bytes: inout [UInt8]) { encodeBody(state, &bytes) }

    /// Reads an encoded state.
    public func decode(_ bytes: UnsafeRawBufferPointer) throws(AggregationError) -> AggregateState { try decodeBody(bytes) }

    /// Drops tiles no window needs at `now`.
    public func evict(_ state: AggregateState, now: Int64) -> Bool { evictBody(state, now) }

    /// Merges `other` into `state`.
    public func merge(_ other: AggregateState, into state: AggregateState) { mergeBody(other, state) }
}
