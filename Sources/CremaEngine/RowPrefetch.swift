import CPrefetch
import CremaAggregation

/// Prefetching rows in a pipeline ahead of the work on them (applying events, encoding rows),
/// so that the misses of many rows overlap: each step reads what the step before brought
/// into the cache. Raw reads, no retains: a retain (an atomic write, a full barrier on x86)
/// waits for the very line the hint asks for.
struct RowPrefetchPipeline {
    /// How many rows ahead the row objects are prefetched, if at all.
    let rowObjects: Int?
    /// How many rows ahead the state lists are prefetched.
    let stateLists: Int
    /// How many rows ahead the state objects are prefetched.
    let stateObjects: Int
    /// How many rows ahead each depth of `Aggregator.prefetch` is, in order of depth.
    let contents: [Int]

    /// The longest distance: how many rows before the first one the pipeline starts.
    var lead: Int { rowObjects ?? stateLists }

    /// Applying events: lookups have prefetched the row objects; each step three events after the
    /// one before it.
    static let applying = RowPrefetchPipeline(rowObjects: nil, stateLists: 15, stateObjects: 12, contents: [9, 6, 3])
    /// Encoding rows, or finalizing a read's values of rows: a row takes microseconds, so one
    /// row between steps is enough.
    static let encoding = RowPrefetchPipeline(rowObjects: 5, stateLists: 4, stateObjects: 3, contents: [2, 1])

    /// Calls `body` with each position of `count` rows in order, running the pipeline's steps
    /// ahead of it (from `-lead`, so that the first rows get every step); `rowAddress` gives the
    /// row objects, `eventTime` the time of the event applied to a row (`Int64.max` for the
    /// newest tiles).
    @inline(__always)
    func forEachRow(
        count: Int, aggregators: UnsafeBufferPointer<Unmanaged<SpecializedAggregator>>,
        rowAddress: (Int) -> UnsafeRawPointer, eventTime: (Int) -> Int64, _ body: (Int) -> Void
    ) {
        for position in -lead..<0 { prefetch(at: position, count: count, aggregators: aggregators, rowAddress: rowAddress, eventTime: eventTime) }
        for position in 0..<count {
            prefetch(at: position, count: count, aggregators: aggregators, rowAddress: rowAddress, eventTime: eventTime)
            body(position)
        }
    }

    /// Runs the steps due while the work is at row `position` of `count` rows.
    @inline(__always)
    private func prefetch(
        at position: Int, count: Int, aggregators: UnsafeBufferPointer<Unmanaged<SpecializedAggregator>>,
        rowAddress: (Int) -> UnsafeRawPointer, eventTime: (Int) -> Int64
    ) {
        func row(_ ahead: Int) -> UnsafeRawPointer? {
            (0..<count).contains(position &+ ahead) ? rowAddress(position &+ ahead) : nil
        }
        if let rowObjects, let address = row(rowObjects) { crema_prefetch(address) }
        if let address = row(stateLists) { Row.prefetchStateList(ofRowAt: address) }
        if let address = row(stateObjects) { Row.prefetchStates(ofRowAt: address, of: aggregators) }
        for (depth, distance) in contents.enumerated() {
            if let address = row(distance) {
                Row.prefetchContents(ofRowAt: address, depth: depth, of: aggregators, time: eventTime(position &+ distance))
            }
        }
    }
}

extension Row {
    /// The storage of the state list of the row at `address`, read without retaining either.
    @inline(__always)
    private static func stateStorage(ofRowAt address: UnsafeRawPointer) -> UnsafeRawPointer {
        Unmanaged<Row>.fromOpaque(address)._withUnsafeGuaranteedRef { row in
            withUnsafeMutablePointer(to: &row.states) { Prefetch.storage(ofCollectionAt: UnsafeRawPointer($0)) }
        }
    }

    /// Prefetches the state list of the row at `address` (its count and first states); the row
    /// object must be in the cache.
    @inline(__always)
    static func prefetchStateList(ofRowAt address: UnsafeRawPointer) {
        Prefetch.lines(2, from: stateStorage(ofRowAt: address))
    }

    /// Prefetches the state objects of the row at `address`, each from its first byte to its
    /// last (an object of 80 bytes spans two lines wherever it sits); its state list must be in
    /// the cache.
    @inline(__always)
    static func prefetchStates(ofRowAt address: UnsafeRawPointer, of aggregators: UnsafeBufferPointer<Unmanaged<SpecializedAggregator>>) {
        let storage = stateStorage(ofRowAt: address)
        let count = storage.load(fromByteOffset: Prefetch.arrayCountOffset, as: Int.self)
        for index in 0..<count {
            let state = storage.load(fromByteOffset: Prefetch.arrayElementsOffset &+ index &* MemoryLayout<AggregateState>.stride, as: UnsafeRawPointer.self)
            crema_prefetch(state)
            crema_prefetch(state + (aggregators[index]._withUnsafeGuaranteedRef { $0.stateObjectBytes } &- 1))
        }
    }

    /// Prefetches one depth of what adding an event at `time` will touch in each state of the
    /// row at `address` (`Aggregator.prefetch`); its state objects must be in the cache.
    @inline(__always)
    static func prefetchContents(
        ofRowAt address: UnsafeRawPointer, depth: Int, of aggregators: UnsafeBufferPointer<Unmanaged<SpecializedAggregator>>, time: Int64
    ) {
        let storage = stateStorage(ofRowAt: address)
        let count = storage.load(fromByteOffset: Prefetch.arrayCountOffset, as: Int.self)
        for index in 0..<count {
            let state = storage.load(fromByteOffset: Prefetch.arrayElementsOffset &+ index &* MemoryLayout<AggregateState>.stride, as: UnsafeRawPointer.self)
            Unmanaged<AggregateState>.fromOpaque(state)._withUnsafeGuaranteedRef { state in
                aggregators[index]._withUnsafeGuaranteedRef { $0.prefetch(state, depth: depth, time: time) }
            }
        }
    }
}
