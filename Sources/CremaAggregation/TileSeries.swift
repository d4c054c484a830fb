import CPrefetch

/// One tile of a series: its index k and the partial state of the events in `[k·H, (k+1)·H)`.
struct Tile<State> {
    /// The tile index k.
    var index: Int64
    /// The partial state of the tile's events.
    var state: State
}

/// The sparse tiles of one hop H, sorted by index; only tiles that received an event exist.
///
/// The two newest tiles, where most events land, are held inline (in the state object
/// that holds the series), with the index of the oldest tile: adding to them, and checking
/// whether a tile is due for eviction, touch no other memory. Older tiles sit in one buffer,
/// indices beside states. Positions run over all tiles, oldest first.
struct TileSeries<State> {
    /// How many of `inline0`, `inline1` hold tiles (0, 1 or 2); `older` is empty unless both do.
    private var inlineCount = 0
    /// The index of the oldest tile, when there is one.
    private var oldestIndex: Int64 = 0
    /// The newest tile when there is one tile, else the second newest; `empty` when unused.
    private var inline0: Tile<State>
    /// The newest tile when there are two or more; `empty` when unused.
    private var inline1: Tile<State>
    /// The tiles older than the inline ones, indices strictly increasing.
    private var older: [Tile<State>] = []

    /// Creates an empty series; `empty` fills the inline tiles not in use.
    init(empty: State) {
        inline0 = Tile(index: 0, state: empty)
        inline1 = Tile(index: 0, state: empty)
        assert(Self.inline1Offset == Self.inline0Offset + MemoryLayout<Tile<State>>.stride, "the inline tiles are one buffer")
    }

    /// The number of tiles.
    var count: Int { older.count &+ inlineCount }

    /// Whether no tile is left.
    @inline(__always)
    var isEmpty: Bool { inlineCount == 0 }

    /// The index of the oldest tile.
    @inline(__always)
    var firstIndex: Int64? { inlineCount == 0 ? nil : oldestIndex }

    /// The index of the newest tile.
    @inline(__always)
    var lastIndex: Int64? {
        switch inlineCount {
        case 0: nil
        case 1: inline0.index
        default: inline1.index
        }
    }

    /// Every tile, oldest first (a copy).
    var tiles: [Tile<State>] {
        older + [inline0, inline1].prefix(inlineCount)
    }

    /// The tile at `position` (0 is the oldest).
    subscript(position: Int) -> Tile<State> {
        @inline(__always) get {
            let inlinePosition = position &- older.count
            if inlinePosition < 0 { return older[position] }
            precondition(inlinePosition < inlineCount, "tile position out of range")
            return inlinePosition == 0 ? inline0 : inline1
        }
        @inline(__always) _modify {
            let inlinePosition = position &- older.count
            precondition(inlinePosition < inlineCount, "tile position out of range")
            if inlinePosition < 0 {
                yield &older[position]
            } else if inlinePosition == 0 {
                yield &inline0
            } else {
                yield &inline1
            }
        }
    }

    /// The index of the tile at `position`.
    @inline(__always)
    private func index(at position: Int) -> Int64 {
        let inlinePosition = position &- older.count
        if inlinePosition < 0 { return older[position].index }
        return inlinePosition == 0 ? inline0.index : inline1.index
    }

    /// The position of the first tile with index ≥ `index`.
    ///
    /// - Complexity: O(log tiles).
    func lowerBound(_ index: Int64) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low &+ high) >> 1
            if self.index(at: middle) < index { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Calls `body` with the state of the newest tile, in place.
    ///
    /// - Precondition: the series is not empty.
    @inline(__always)
    mutating func withNewest<Result>(_ body: (inout State) -> Result) -> Result {
        precondition(inlineCount > 0, "an empty series has no newest tile")
        return inlineCount == 1 ? body(&inline0.state) : body(&inline1.state)
    }

    /// Calls `body` with the state of tile `index`, in place, inserting it with `empty` when
    /// missing. The inline tiles are checked first: most events land there.
    ///
    /// - Complexity: O(1) for an inline tile, O(tiles) when a tile is inserted.
    @inline(__always)
    mutating func withTile<Result>(_ index: Int64, inserting empty: @autoclosure () -> State, _ body: (inout State) -> Result) -> Result {
        if inlineCount == 2 {
            if inline1.index == index { return body(&inline1.state) }
            if inline0.index == index { return body(&inline0.state) }
        } else if inlineCount == 1, inline0.index == index {
            return body(&inline0.state)
        }
        let position = position(of: index, inserting: empty())
        return body(&self[position].state)
    }

    /// The position of tile `index`, inserting it with `empty` when missing. The newest
    /// tile is checked first: most events land there.
    ///
    /// - Complexity: O(1) for the newest tile, O(tiles) when a tile is inserted.
    mutating func position(of index: Int64, inserting empty: @autoclosure () -> State) -> Int {
        if let last = lastIndex {
            if last == index { return count &- 1 }
            if last < index {
                append(Tile(index: index, state: empty()))
                return count &- 1
            }
        }
        let position = lowerBound(index)
        if position == count || self.index(at: position) != index {
            insert(Tile(index: index, state: empty()), at: position)
        }
        return position
    }

    /// Adds `tile` after the newest.
    ///
    /// - Precondition: its index is above every tile's.
    mutating func append(_ tile: Tile<State>) {
        precondition(lastIndex.map { tile.index > $0 } ?? true, "tiles are appended in increasing index order")
        switch inlineCount {
        case 0:
            inline0 = tile
            oldestIndex = tile.index
        case 1:
            inline1 = tile
        default:
            older.append(inline0)
            inline0 = inline1
            inline1 = tile
        }
        inlineCount = min(inlineCount &+ 1, 2)
    }

    /// Inserts `tile` at `position`, which keeps the indices increasing.
    private mutating func insert(_ tile: Tile<State>, at position: Int) {
        if position == count {
            append(tile)
            return
        }
        if position == 0 { oldestIndex = tile.index }
        if inlineCount == 1 {
            inline1 = inline0
            inline0 = tile
            inlineCount = 2
        } else if position <= older.count {
            older.insert(tile, at: position)
        } else {
            older.append(inline0)
            inline0 = tile
        }
    }

    /// Reserves room for `count` tiles in all.
    mutating func reserveCapacity(_ count: Int) {
        older.reserveCapacity(max(count &- 2, 0))
    }

    /// Drops the tiles with index below `bound`; `empty` refills the inline tiles it frees.
    ///
    /// - Complexity: O(1) when nothing is dropped, else O(tiles).
    @inline(__always)
    mutating func evict(below bound: Int64, empty: @autoclosure () -> State) {
        guard inlineCount > 0, oldestIndex < bound else { return }
        removeFirst(lowerBound(bound), empty: empty())
    }

    /// Drops the `dropped` oldest tiles.
    private mutating func removeFirst(_ dropped: Int, empty: State) {
        let olderCount = older.count
        if dropped <= olderCount {
            older.removeFirst(dropped)
        } else {
            older.removeAll()
            let inlineDropped = dropped &- olderCount
            if inlineDropped == 1 && inlineCount == 2 {
                inline0 = inline1
            } else {
                inline0 = Tile(index: 0, state: empty)
            }
            inline1 = Tile(index: 0, state: empty)
            inlineCount &-= inlineDropped
        }
        if inlineCount > 0 { oldestIndex = index(at: 0) }
    }

    /// Calls `body` with the tiles of the series at `series` in place, as two buffers, both
    /// oldest first: the older tiles, then the inline ones. Reads the older tiles' buffer
    /// without a mutable access, which would copy it while a reader holds the series too.
    @inline(__always)
    static func withTiles<Result>(
        ofSeriesAt series: UnsafeMutablePointer<Self>,
        _ body: (_ older: UnsafeBufferPointer<Tile<State>>, _ inline: UnsafeBufferPointer<Tile<State>>) -> Result
    ) -> Result {
        // inline1 follows inline0 at one stride, as struct fields are laid out.
        let inline = UnsafeBufferPointer(
            start: (UnsafeRawPointer(series) + inline0Offset).assumingMemoryBound(to: Tile<State>.self), count: series.pointee.inlineCount)
        return series.pointee.older.withUnsafeBufferPointer { body($0, inline) }
    }

    /// Calls `body` with each tile of the series at `series`, oldest first, its state borrowed
    /// in place through a pointer (only read: no copy, no retain).
    static func forEachTile(ofSeriesAt series: UnsafeMutablePointer<Self>, _ body: (Int64, UnsafeMutablePointer<State>) -> Void) {
        withTiles(ofSeriesAt: series) { older, inline in
            for part in 0..<2 {
                let part = part == 0 ? older : inline
                for position in part.indices {
                    let tile = UnsafeMutablePointer(mutating: part.baseAddress! + position)
                    body(tile.pointee.index, statePointer(ofTileAt: tile))
                }
            }
        }
    }

    /// The address of a tile's state.
    @inline(__always)
    private static func statePointer(ofTileAt tile: UnsafeMutablePointer<Tile<State>>) -> UnsafeMutablePointer<State> {
        (UnsafeMutableRawPointer(tile) + MemoryLayout<Tile<State>>.offset(of: \Tile<State>.state)!).assumingMemoryBound(to: State.self)
    }

    private static var inlineCountOffset: Int { MemoryLayout<Self>.offset(of: \Self.inlineCount)! }
    private static var inline0Offset: Int { MemoryLayout<Self>.offset(of: \Self.inline0)! }
    private static var inline1Offset: Int { MemoryLayout<Self>.offset(of: \Self.inline1)! }
    private static var olderOffset: Int { MemoryLayout<Self>.offset(of: \Self.older)! }

    /// Prefetches, from raw memory, one dependent step (`depth` 0, 1, 2) of what adding to tile
    /// `index` of the series at `address` reads; the series itself must be in the cache. Tile
    /// `index` inline: `contents` of its state's address at depth 0, `furtherContents` at
    /// depth 1. Else, when there are older tiles: their buffer's header and first tiles at
    /// depth 0, its newest tiles (the line of the newest and the line before) at depth 1, and
    /// at depth 2 `contents` of the state of tile `index` when it is among those. Else (a tile
    /// to insert), `contents` of the newest tile at the last step. `index: .max` means the
    /// newest.
    @inline(__always)
    static func prefetch(
        seriesAt address: UnsafeRawPointer, depth: Int, index: Int64,
        contents: (UnsafeRawPointer) -> Void, furtherContents: (UnsafeRawPointer) -> Void
    ) {
        let inlineCount = address.load(fromByteOffset: inlineCountOffset, as: Int.self)
        guard inlineCount > 0 else { return }
        let indexOffset = MemoryLayout<Tile<State>>.offset(of: \Tile<State>.index)!
        let stateOffset = MemoryLayout<Tile<State>>.offset(of: \Tile<State>.state)!
        let newest = address + (inlineCount == 1 ? inline0Offset : inline1Offset)
        var inlineTile: UnsafeRawPointer?
        if index >= newest.load(fromByteOffset: indexOffset, as: Int64.self) {
            inlineTile = newest
        } else if inlineCount == 2, index == address.load(fromByteOffset: inline0Offset &+ indexOffset, as: Int64.self) {
            inlineTile = address + inline0Offset
        }
        if let inlineTile {
            switch depth {
            case 0: contents(inlineTile + stateOffset)
            case 1: furtherContents(inlineTile + stateOffset)
            default: break
            }
            return
        }
        let storage = Prefetch.storage(ofCollectionAt: address + olderOffset)
        let olderCount = storage.load(fromByteOffset: Prefetch.arrayCountOffset, as: Int.self)
        guard olderCount > 0 else {
            // Tile `index` is new, older than the inline ones.
            if depth == Prefetch.depths &- 1 { contents(newest + stateOffset) }
            return
        }
        guard depth > 0 else {
            Prefetch.lines(2, from: storage)
            return
        }
        let stride = MemoryLayout<Tile<State>>.stride
        let elements = storage + Prefetch.arrayElementsOffset
        let newestOlder = elements + (olderCount &- 1) &* stride
        guard depth > 1 else {
            crema_prefetch(newestOlder)
            crema_prefetch(newestOlder - Prefetch.lineBytes)
            return
        }
        // Back from the newest older tile, within the two lines prefetched at depth 1; the newest
        // tile when the event's tile is not there.
        var tile = newestOlder
        while tile > elements, newestOlder - tile < Prefetch.lineBytes, tile.load(fromByteOffset: indexOffset, as: Int64.self) > index {
            tile -= stride
        }
        contents((tile.load(fromByteOffset: indexOffset, as: Int64.self) == index ? tile : newest) + stateOffset)
    }
}
