/// An aggregator with windows: one sparse tile series per distinct hop, each tile a kernel
/// state; a read of window W at t merges the tiles `floor((t − W)/H) … floor(t/H)`.
struct WindowedAggregator<Kernel: AggregationKernel>: Aggregator {
    /// The operation.
    let kernel: Kernel
    /// The windows grouped into series.
    let layout: TileLayout

    /// One feature per window.
    var featureCount: Int { layout.windows.count }

    /// The bytes of a `TiledAggregateState` of the kernel's state.
    var stateObjectBytes: Int { TiledAggregateState<Kernel.State>.instanceBytes }

    /// A state with empty series.
    func makeState() -> AggregateState { TiledAggregateState<Kernel.State>(seriesCount: layout.hops.count, empty: kernel.empty) }

    /// The concrete state (the engine passes back what `makeState` or `decode` made).
    @inline(__always)
    private func tiles(_ state: AggregateState) -> TiledAggregateState<Kernel.State> {
        unsafeDowncast(state, to: TiledAggregateState<Kernel.State>.self)
    }

    /// Adds the event to its tile in every series that still keeps that tile, evicting
    /// tiles older than each series' retention first. Tile k is kept while
    /// `(k + 1)·H > now − W_max`; the common case (the event lands in the newest tile,
    /// nothing to evict) needs no division.
    ///
    /// - Complexity: O(series) when the event's tiles exist.
    func add(_ fields: [FieldValue], time: Int64, arrival: UInt64, now: Int64, to state: AggregateState) -> AddOutcome {
        guard let input = kernel.input(from: fields) else { return .skipped }
        let tiled = tiles(state)
        var isKept = false
        for series in layout.hops.indices {
            if add(input, time: time, arrival: arrival, horizon: now &- layout.longestWindows[series], hop: layout.hops[series], to: &tiled[series: series]) {
                isKept = true
            }
        }
        return isKept ? .kept : .late
    }

    /// Adds the input to its tile of one series, evicting first; false when the tile is not kept.
    @inline(__always)
    private func add(
        _ input: Kernel.Input, time: Int64, arrival: UInt64, horizon: Int64, hop: Int64, to series: inout TileSeries<Kernel.State>
    ) -> Bool {
        if let first = series.firstIndex, (first &+ 1) &* hop <= horizon {
            series.evict(below: floorDivide(horizon, hop), empty: kernel.empty)
        }
        if let last = series.lastIndex, last &* hop <= time, time < (last &+ 1) &* hop {
            series.withNewest { kernel.add(input, time: time, arrival: arrival, to: &$0) }
            return true
        }
        let tile = floorDivide(time, hop)
        guard (tile &+ 1) &* hop > horizon else { return false }
        series.withTile(tile, inserting: kernel.empty) { kernel.add(input, time: time, arrival: arrival, to: &$0) }
        return true
    }

    /// Prefetches the newest tiles of every series and the contents of the event's tile (see
    /// `Aggregator.prefetch`).
    func prefetch(_ state: AggregateState, depth: Int, time: Int64) {
        tiles(state).prefetch(
            depth: depth, hops: layout.hops, time: time, contents: { kernel.prefetchContents(ofStateAt: $0) },
            furtherContents: { kernel.prefetchFurtherContents(ofStateAt: $0) })
    }

    /// Merges the window's tiles into a local state and finalizes it.
    ///
    /// - Complexity: O(log tiles + tiles in the window).
    func result(of state: AggregateState, feature: Int, at time: Int64) -> FeatureValue {
        let window = layout.windows[feature]
        let first = window.firstTile(at: time)
        let last = window.lastTile(at: time)
        // The series is read in place, not copied.
        return tiles(state).withSeries(layout.seriesOfWindow[feature]) { series in
            TileSeries.withTiles(ofSeriesAt: series) { older, inline in
                var merged = kernel.empty
                var isEmpty = true
                for part in 0..<2 {
                    let part = part == 0 ? older : inline
                    var position = 0
                    var end = part.count
                    while position < end {
                        let middle = (position &+ end) >> 1
                        if part[middle].index < first { position = middle &+ 1 } else { end = middle }
                    }
                    while position < part.count && part[position].index <= last {
                        if isEmpty {
                            merged = part[position].state
                            isEmpty = false
                        } else {
                            kernel.merge(part[position].state, into: &merged)
                        }
                        position += 1
                    }
                }
                return kernel.result(of: merged, at: time)
            }
        }
    }

    /// One feature being read by `readResults`: its series, its tiles and its merge so far.
    private struct ReadSlot {
        let series: Int
        let firstTile: Int64
        let lastTile: Int64
        var merged: Kernel.State?
    }

    /// Reads the encoding tile by tile, merging each tile into the windows asked for that cover
    /// it; no tile series is built. Checks the encoding as `decode` does.
    ///
    /// - Complexity: O(tiles × (state size + features)).
    func readResults(
        ofEncoded bytes: UnsafeRawBufferPointer, features: [Int], at time: Int64, _ body: (Int, FeatureValue) -> Void
    ) throws(AggregationError) {
        try withUnsafeTemporaryAllocation(of: ReadSlot.self, capacity: features.count) { (slots) throws(AggregationError) in
            for (slot, feature) in features.enumerated() {
                let window = layout.windows[feature]
                (slots.baseAddress! + slot).initialize(to: ReadSlot(
                    series: layout.seriesOfWindow[feature], firstTile: window.firstTile(at: time),
                    lastTile: window.lastTile(at: time), merged: nil))
            }
            defer { slots.deinitialize() }
            try forEachEncodedTile(in: bytes) { series, index, state in
                for slot in slots.indices
                where slots[slot].series == series && slots[slot].firstTile <= index && index <= slots[slot].lastTile {
                    if slots[slot].merged == nil {
                        slots[slot].merged = state
                    } else {
                        kernel.merge(state, into: &slots[slot].merged!)
                    }
                }
            }
            for slot in slots.indices {
                body(slot, kernel.result(of: slots[slot].merged ?? kernel.empty, at: time))
            }
        }
    }

    /// Writes format version 2 (see `StateFormat`).
    ///
    /// - Complexity: O(tiles × state size).
    func encode(_ state: AggregateState, into bytes: inout [UInt8]) {
        let tiled = tiles(state)
        bytes.append(StateFormat.current)
        bytes.appendVarint(UInt64(layout.hops.count))
        for seriesIndex in layout.hops.indices {
            tiled.withSeries(seriesIndex) { series in
                bytes.appendVarint(UInt64(series.pointee.count))
                var previous: Int64?
                TileSeries.forEachTile(ofSeriesAt: series) { index, state in
                    if let previous {
                        bytes.appendVarint(UInt64(bitPattern: index &- previous))
                    } else {
                        bytes.appendZigzag(index)
                    }
                    previous = index
                    kernel.encode(inPlace: &state.pointee, into: &bytes)
                }
            }
        }
    }

    /// Reads format version 2 or 1 (see `StateFormat`).
    ///
    /// - Complexity: O(tiles × state size).
    func decode(_ bytes: UnsafeRawBufferPointer) throws(AggregationError) -> AggregateState {
        let tiled = TiledAggregateState<Kernel.State>(seriesCount: layout.hops.count, empty: kernel.empty)
        try forEachEncodedTile(in: bytes, startingSeries: { series, tileCount in
            tiled[series: series].reserveCapacity(tileCount)
        }) { series, index, state in
            tiled[series: series].append(Tile(index: index, state: state))
        }
        return tiled
    }

    /// Reads an encoding of format version 2 or 1 (see `StateFormat`) tile by tile, checking
    /// it whole: calls `startingSeries(series, tile count)` before each series' tiles and
    /// `tile(series, index, state)` for each tile, in order.
    ///
    /// - Complexity: O(tiles × state size).
    private func forEachEncodedTile(
        in bytes: UnsafeRawBufferPointer, startingSeries: (_ series: Int, _ tileCount: Int) -> Void = { _, _ in },
        _ tile: (_ series: Int, _ index: Int64, _ state: Kernel.State) -> Void
    ) throws(AggregationError) {
        var reader = ByteReader(bytes)
        let version = try StateFormat.readVersion(from: &reader)
        let seriesCount = try reader.readVarint()
        guard seriesCount == UInt64(layout.hops.count) else {
            throw AggregationError(.corruptState, "state has \(seriesCount) tile series, the aggregate \(layout.hops.count)")
        }
        for series in layout.hops.indices {
            let tileCount = try reader.readCount()
            startingSeries(series, tileCount)
            var previous: Int64 = 0
            for position in 0..<tileCount {
                let index: Int64
                if version == StateFormat.fixedWidthIndices {
                    index = Int64(bitPattern: try reader.readFixed64())
                } else if position == 0 {
                    index = try reader.readZigzag()
                } else {
                    index = previous &+ Int64(bitPattern: try reader.readVarint())
                }
                guard position == 0 || index > previous else {
                    throw AggregationError(.corruptState, "tile indices are not increasing")
                }
                previous = index
                tile(series, index, try kernel.decode(from: &reader))
            }
        }
        try StateFormat.expectEnd(of: reader)
    }

    /// Drops the tiles below each series' retention at `now`.
    ///
    /// - Complexity: O(tiles) when some are dropped.
    func evict(_ state: AggregateState, now: Int64) -> Bool {
        let tiled = tiles(state)
        var isEmpty = true
        for series in layout.hops.indices {
            tiled[series: series].evict(below: layout.retainedTile(series: series, now: now), empty: kernel.empty)
            isEmpty = isEmpty && tiled[series: series].isEmpty
        }
        return isEmpty
    }

    /// Merges tile by tile, bounding each merged tile.
    ///
    /// - Complexity: O(tiles × merge cost).
    func merge(_ other: AggregateState, into state: AggregateState) {
        let source = tiles(other)
        let target = tiles(state)
        for series in layout.hops.indices {
            for tile in source[series: series].tiles {
                target[series: series].withTile(tile.index, inserting: kernel.empty) { state in
                    kernel.merge(tile.state, into: &state)
                    kernel.bound(&state)
                }
            }
        }
    }
}
