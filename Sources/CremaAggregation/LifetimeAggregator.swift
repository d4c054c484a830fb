/// An aggregator without windows: one state over every accepted event, whatever its time.
struct LifetimeAggregator<Kernel: AggregationKernel>: Aggregator {
    /// The operation.
    let kernel: Kernel

    /// One lifetime feature.
    var featureCount: Int { 1 }

    /// A state holding the kernel's empty state.
    func makeState() -> AggregateState { LifetimeAggregateState(kernel.empty) }

    /// The bytes of a `LifetimeAggregateState` of the kernel's state.
    var stateObjectBytes: Int { LifetimeAggregateState<Kernel.State>.instanceBytes }

    /// The concrete state (the engine passes back what `makeState` or `decode` made).
    @inline(__always)
    private func lifetime(_ state: AggregateState) -> LifetimeAggregateState<Kernel.State> {
        unsafeDowncast(state, to: LifetimeAggregateState<Kernel.State>.self)
    }

    /// Adds the event; never late.
    func add(_ fields: [FieldValue], time: Int64, arrival: UInt64, now: Int64, to state: AggregateState) -> AddOutcome {
        guard let input = kernel.input(from: fields) else { return .skipped }
        kernel.add(input, time: time, arrival: arrival, to: &lifetime(state).value)
        return .kept
    }

    /// Prefetches the first lines of the state's buffers at depth 0 (see `Aggregator.prefetch`):
    /// the state object is in the cache by then, and its buffers are one step away; what lies
    /// further into them at depth 1, once their counts are in the cache.
    func prefetch(_ state: AggregateState, depth: Int, time: Int64) {
        switch depth {
        case 0: kernel.prefetchContents(ofStateAt: lifetime(state).valueAddress)
        case 1: kernel.prefetchFurtherContents(ofStateAt: lifetime(state).valueAddress)
        default: break
        }
    }

    /// The finalized state at `time`.
    func result(of state: AggregateState, feature: Int, at time: Int64) -> FeatureValue {
        kernel.result(of: lifetime(state).value, at: time)
    }

    /// Decodes the kernel state and finalizes it once for every feature asked for.
    func readResults(
        ofEncoded bytes: UnsafeRawBufferPointer, features: [Int], at time: Int64, _ body: (Int, FeatureValue) -> Void
    ) throws(AggregationError) {
        let value = try decodeValue(bytes)
        for index in features.indices {
            body(index, kernel.result(of: value, at: time))
        }
    }

    /// The version byte, then the kernel state.
    ///
    /// - Complexity: O(state size).
    func encode(_ state: AggregateState, into bytes: inout [UInt8]) {
        bytes.append(StateFormat.current)
        kernel.encode(inPlace: &lifetime(state).value, into: &bytes)
    }

    /// Reads version 2 or 1 (identical for lifetime states).
    ///
    /// - Complexity: O(state size).
    func decode(_ bytes: UnsafeRawBufferPointer) throws(AggregationError) -> AggregateState {
        LifetimeAggregateState(try decodeValue(bytes))
    }

    /// The kernel state of an encoding of version 2 or 1, checked whole.
    private func decodeValue(_ bytes: UnsafeRawBufferPointer) throws(AggregationError) -> Kernel.State {
        var reader = ByteReader(bytes)
        _ = try StateFormat.readVersion(from: &reader)
        let value = try kernel.decode(from: &reader)
        try StateFormat.expectEnd(of: reader)
        return value
    }

    /// Nothing to drop; true when the state holds no events.
    func evict(_ state: AggregateState, now: Int64) -> Bool {
        lifetime(state).value == kernel.empty
    }

    /// Merges the states.
    func merge(_ other: AggregateState, into state: AggregateState) {
        let target = lifetime(state)
        kernel.merge(lifetime(other).value, into: &target.value)
        kernel.bound(&target.value)
    }
}
