/// One aggregation operation as a mergeable state (Chronon's aggregator, Flink's AggregateFunction):
/// an identity state, `add` one input, an associative `merge`, and finalization at read time.
///
/// States are small value types; the tiles of a window each hold one.
protocol AggregationKernel: Sendable {
    /// What `add` takes, extracted from an event's fields.
    associatedtype Input
    /// The partial aggregate.
    associatedtype State: Sendable, Equatable

    /// The identity of `merge`: the state of no events.
    var empty: State { get }

    /// The input of an event, or nil when the aggregate skips it (its field is null).
    func input(from fields: [FieldValue]) -> Input?

    /// Adds one event's input; `arrival` breaks ties between equal event times.
    func add(_ input: Input, time: Int64, arrival: UInt64, to state: inout State)

    /// Merges `other` into `state`; associative, with `empty` neutral.
    func merge(_ other: State, into state: inout State)

    /// The feature value of `state` read at `time` (only decayed_* depend on `time`).
    func result(of state: State, at time: Int64) -> FeatureValue

    /// Appends the state's binary encoding.
    func encode(_ state: State, into bytes: inout [UInt8])

    /// Reads a state written by `encode(_:into:)`.
    func decode(from reader: inout ByteReader) throws(AggregationError) -> State

    /// Prefetches the heap buffers of the state at `address` that `add` reads, from raw memory
    /// (see `Prefetch`); the state's own bytes are in the cache by the time it is called.
    func prefetchContents(ofStateAt address: UnsafeRawPointer)

    /// Prefetches what `add` reads further into the buffers whose first lines
    /// `prefetchContents` brought into the cache a step before, found from those lines (a
    /// buffer's count): a sequence's newest entry, at the end of its buffer; the entries of a
    /// small frequency table or the sparse bins of a sketch beyond their first lines.
    func prefetchFurtherContents(ofStateAt address: UnsafeRawPointer)

    /// Brings a stored state that merges have grown back within the kernel's size bound
    /// (top_k and histogram keep at most `capacity` values per tile).
    func bound(_ state: inout State)
}

/// Defaults for kernels whose states stay within their bound.
extension AggregationKernel {
    /// Most states never outgrow their bound: nothing to do.
    func bound(_ state: inout State) {}

    /// States held inline have no buffers to prefetch.
    func prefetchContents(ofStateAt address: UnsafeRawPointer) {}

    /// Most states' `add` reads only what `prefetchContents` covers.
    func prefetchFurtherContents(ofStateAt address: UnsafeRawPointer) {}

    /// `encode(_:into:)` of a state borrowed in place (`inout`, only read): passed as a copy,
    /// a state read from a tile or an object retains and releases its buffers (a checkpoint
    /// encodes every state of every changed row).
    @inline(never)
    func encode(inPlace state: inout State, into bytes: inout [UInt8]) {
        encode(state, into: &bytes)
    }
}
