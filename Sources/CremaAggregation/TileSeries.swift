import CPrefetch

/// One tile of a series: its index k and the partial state of the events in `[k·H, (k+1)·H)`.
struct Tile<State> {
    /// The tile index k.
    var index: Int64
    /// The partial state of the tile's events.
    var state: State
}

/// The sparse tiles of one hop H, sorted by index; only tiles that received an event exist.
/// Indices and states sit side by side in one buffer, so adding to a tile touches one allocation.
struct TileSeries<State> {
    /// The tiles, indices strictly increasing.
    var tiles: [Tile<State>] = []

    /// Creates an empty series.
    init() {}

    /// Whether no tile is left.
    var isEmpty: Bool { tiles.isEmpty }

    /// The index of the oldest tile. (`tiles.first?.index` would copy the tile, retaining its state.)
    @inline(__always)
    var firstIndex: Int64? { tiles.isEmpty ? nil : tiles[0].index }

    /// The index of the newest tile.
    @inline(__always)
    var lastIndex: Int64? { tiles.isEmpty ? nil : tiles[tiles.count - 1].index }

    /// The position of the first tile with index ≥ `index`.
    ///
    /// - Complexity: O(log tiles).
    @inline(__always)
    func lowerBound(_ index: Int64) -> Int {
        var low = 0
        var high = tiles.count
        while low < high {
            let middle = (low &+ high) >> 1
            if tiles[middle].index < index { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The position of tile `index`, inserting it with `empty` when missing. The newest
    /// tile is checked first: most events land there.
    ///
    /// - Complexity: O(1) for the newest tile, O(tiles) when a tile is inserted.
    @inline(__always)
    mutating func position(of index: Int64, inserting empty: @autoclosure () -> State) -> Int {
        if let last = lastIndex {
            if last == index { return tiles.count - 1 }
            if last < index {
                tiles.append(Tile(index: index, state: empty()))
                return tiles.count - 1
            }
        }
        let position = lowerBound(index)
        if position == tiles.count || tiles[position].index != index {
            tiles.insert(Tile(index: index, state: empty()), at: position)
        }
        return position
    }

    /// Prefetches, from raw memory, one dependent step (`depth` 0, 1, 2) of what adding to tile
    /// `index` of the series at `address` reads: the tile buffer's header and first tiles, the
    /// newest tiles (the line of the newest and the line before), and `contents` of the address
    /// of the state of tile `index` when it is among those, else of the newest tile. Events
    /// mostly land in the newest tile or the one before it; `index: .max` means the newest.
    @inline(__always)
    static func prefetch(seriesAt address: UnsafeRawPointer, depth: Int, index: Int64, contents: (UnsafeRawPointer) -> Void) {
        let storage = Prefetch.storage(ofCollectionAt: address)
        guard depth > 0 else {
            Prefetch.lines(2, from: storage)
            return
        }
        let count = storage.load(fromByteOffset: Prefetch.arrayCountOffset, as: Int.self)
        guard count > 0 else { return }
        let stride = MemoryLayout<Tile<State>>.stride
        let elements = storage + Prefetch.arrayElementsOffset
        let newest = elements + (count &- 1) &* stride
        guard depth > 1 else {
            crema_prefetch(newest)
            crema_prefetch(newest - Prefetch.lineBytes)
            return
        }
        // Back from the newest tile, within the two lines prefetched at depth 1; the newest
        // when the event's tile is not there (a new tile holds nothing to prefetch).
        let indexOffset = MemoryLayout<Tile<State>>.offset(of: \Tile<State>.index)!
        var tile = newest
        while tile > elements, newest - tile < Prefetch.lineBytes, tile.load(fromByteOffset: indexOffset, as: Int64.self) > index {
            tile -= stride
        }
        if tile.load(fromByteOffset: indexOffset, as: Int64.self) != index { tile = newest }
        contents(tile + MemoryLayout<Tile<State>>.offset(of: \Tile<State>.state)!)
    }

    /// Drops the tiles with index below `bound`.
    ///
    /// - Complexity: O(1) when nothing is dropped, else O(tiles).
    @inline(__always)
    mutating func evict(below bound: Int64) {
        guard let first = firstIndex, first < bound else { return }
        tiles.removeFirst(lowerBound(bound))
    }
}
