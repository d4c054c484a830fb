import Testing
@testable import CremaAggregation

/// The C library's `malloc_usable_size` (declared in malloc.h, which Glibc's module leaves out):
/// the bytes usable in the allocation at `pointer`.
@_silgen_name("malloc_usable_size")
private func mallocUsableSize(_ pointer: UnsafeMutableRawPointer) -> Int

/// Prefetch hints read collections from raw memory; these check the layout they assume and
/// that a hint changes no state.
@Suite struct PrefetchTests {
    @Test func collectionStorageHoldsCountThenElements() {
        let values: [Int64] = [11, 22, 33]
        var copy = values
        withUnsafeMutablePointer(to: &copy) { address in
            let storage = Prefetch.storage(ofCollectionAt: UnsafeRawPointer(address))
            #expect(storage.load(fromByteOffset: Prefetch.arrayCountOffset, as: Int.self) == 3)
            #expect(storage.load(fromByteOffset: Prefetch.arrayElementsOffset + 16, as: Int64.self) == 33)
        }
    }

    /// Tiles 3, 5 and 8: 5 and 8 inline, 3 in the older buffer; 4 and 9 are new tiles.
    @Test(arguments: [(8, 42, true), (5, 9, true), (3, 7, false), (9, 42, true), (4, 42, false), (.max, 42, true)] as [(Int64, Int64, Bool)])
    func contentsAddressIsTheStateOfTheEventsTileOrTheNewest(index: Int64, expected: Int64, isInline: Bool) {
        var series = TileSeries<Int64>(empty: 0)
        for (index, count) in [(3, 7), (5, 9), (8, 42)] {
            let position = series.position(of: Int64(index), inserting: 0)
            series[position].state = Int64(count)
        }
        var seen: [Int64] = []
        var seenFurther: [Int64] = []
        withUnsafeMutablePointer(to: &series) { address in
            for depth in 0..<Prefetch.depths {
                TileSeries<Int64>.prefetch(
                    seriesAt: UnsafeRawPointer(address), depth: depth, index: index, contents: { seen.append($0.load(as: Int64.self)) },
                    furtherContents: { seenFurther.append($0.load(as: Int64.self)) })
            }
        }
        #expect(seen == [expected], "one step reads a tile's state: the event's tile, else the newest")
        #expect(seenFurther == (isInline ? [expected] : []), "a step further into an inline tile's state only")

        var empty = TileSeries<Int64>(empty: 0)
        withUnsafeMutablePointer(to: &empty) { address in
            for depth in 0..<Prefetch.depths {
                TileSeries<Int64>.prefetch(
                    seriesAt: UnsafeRawPointer(address), depth: depth, index: index,
                    contents: { _ in Issue.record("an empty series has no tile") },
                    furtherContents: { _ in Issue.record("an empty series has no tile") })
            }
        }
    }

    @Test(arguments: OracleCase.all)
    func prefetchingChangesNoState(_ scenario: OracleCase) throws {
        let windows = scenario.isWindowed ? OracleCase.windows : []
        let aggregator = try makeAggregator(operation: scenario.operation, inputs: scenario.inputs, windows: windows)
        var generator = SplitMix64(seed: UInt64(scenario.description.utf8.count))
        let now: Int64 = 1_763_900_000_000
        let empty = aggregator.makeState()
        let state = aggregator.makeState()
        for arrival in 0..<300 {
            let time = now - Int64.random(in: 0..<(2 * Milliseconds.hour), using: &generator)
            _ = aggregator.add(TestEvents.random(using: &generator), time: time, arrival: UInt64(arrival), now: now, to: state)
        }
        for subject in [empty, state] {
            var before: [UInt8] = []
            aggregator.encode(subject, into: &before)
            for depth in 0..<Prefetch.depths {
                for time in [now, now - Milliseconds.hour, now - 3 * Milliseconds.hour, .max] { aggregator.prefetch(subject, depth: depth, time: time) }
            }
            var after: [UInt8] = []
            aggregator.encode(subject, into: &after)
            #expect(after == before)
        }
    }

    /// `stateObjectBytes` covers every byte of a state object, made or decoded, and little more:
    /// the allocator's usable size is at least it and within one size class step of it.
    @Test(arguments: OracleCase.all)
    func stateObjectBytesCoverTheObject(_ scenario: OracleCase) throws {
        let windows = scenario.isWindowed ? OracleCase.windows : []
        let aggregator = try makeAggregator(operation: scenario.operation, inputs: scenario.inputs, windows: windows)
        let made = aggregator.makeState()
        var encoded: [UInt8] = []
        aggregator.encode(made, into: &encoded)
        let decoded = try encoded.withUnsafeBytes { (bytes) throws(AggregationError) in try aggregator.decode(bytes) }
        for state in [made, decoded] {
            let usable = mallocUsableSize(Unmanaged.passUnretained(state).toOpaque())
            #expect(usable >= aggregator.stateObjectBytes)
            #expect(usable < aggregator.stateObjectBytes + 32)
        }
    }
}
