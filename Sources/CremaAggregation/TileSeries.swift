/// The sparse tiles of one hop H: tile k covers event times `[k·H, (k+1)·H)` and holds one
/// partial state; tiles are sorted by index and only those that received an event exist.
struct TileSeries<State> {
    /// The tile indices, strictly increasing.
    var indices: [Int64] = []
    /// The state of each tile, parallel to `indices`.
    var states: [State] = []

    /// Creates an empty series.
    init() {}

    /// Whether no tile is left.
    var isEmpty: Bool { indices.isEmpty }

    /// The position of the first tile with index ≥ `index`.
    ///
    /// - Complexity: O(log tiles).
    @inline(__always)
    func lowerBound(_ index: Int64) -> Int {
        var low = 0
        var high = indices.count
        while low < high {
            let middle = (low &+ high) >> 1
            if indices[middle] < index { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The position of tile `index`, inserting it with `empty` when missing. The newest
    /// tile is checked first: most events land there.
    ///
    /// - Complexity: O(1) for the newest tile, O(tiles) when a tile is inserted.
    @inline(__always)
    mutating func position(of index: Int64, inserting empty: @autoclosure () -> State) -> Int {
        if let last = indices.last {
            if last == index { return indices.count - 1 }
            if last < index {
                indices.append(index)
                states.append(empty())
                return indices.count - 1
            }
        }
        let position = lowerBound(index)
        if position == indices.count || indices[position] != index {
            indices.insert(index, at: position)
            states.insert(empty(), at: position)
        }
        return position
    }

    /// Drops the tiles with index below `bound`.
    ///
    /// - Complexity: O(1) when nothing is dropped, else O(tiles).
    @inline(__always)
    mutating func evict(below bound: Int64) {
        guard let first = indices.first, first < bound else { return }
        let kept = lowerBound(bound)
        indices.removeFirst(kept)
        states.removeFirst(kept)
    }
}
