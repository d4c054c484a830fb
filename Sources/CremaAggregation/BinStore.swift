/// Contiguous counts of DDSketch bins `offset ..< offset + counts.count`, holding at most
/// `maximumBins`: when a wider range is needed, the lowest bins collapse into one (the
/// quantiles of the smallest magnitudes lose accuracy first).
struct BinStore: Sendable, Equatable {
    /// The most bins a store keeps.
    static let maximumBins = 2_048

    /// The index of `counts[0]`.
    private(set) var offset = 0
    /// The count of each bin from `offset`.
    private(set) var counts: [Int64] = []

    /// Creates an empty store.
    init() {}

    /// The number of values.
    ///
    /// - Complexity: O(bins).
    var total: Int64 { counts.reduce(0, &+) }

    /// Whether the store holds no bins.
    var isEmpty: Bool { counts.isEmpty }

    /// Adds `count` values to bin `index`.
    ///
    /// - Complexity: O(1) within the current range, O(bins) when it widens.
    mutating func add(index: Int, count: Int64 = 1) {
        guard !counts.isEmpty else {
            offset = index
            counts = [count]
            return
        }
        let high = offset + counts.count - 1
        var index = index
        if index > high {
            counts.append(contentsOf: repeatElement(0, count: index - high))
        } else if index < offset {
            index = Swift.max(index, high - Self.maximumBins + 1)
            if index < offset {
                counts.insert(contentsOf: repeatElement(0, count: offset - index), at: 0)
                offset = index
            }
        }
        counts[index - offset] &+= count
        collapse()
    }

    /// Adds another store's bins, widening this store's range first when needed.
    ///
    /// - Complexity: O(bins of the union range).
    mutating func merge(_ other: BinStore) {
        guard !other.counts.isEmpty else { return }
        guard !counts.isEmpty else {
            self = other
            return
        }
        let otherEnd = other.offset + other.counts.count
        if otherEnd > offset + counts.count {
            counts.append(contentsOf: repeatElement(0, count: otherEnd - offset - counts.count))
        }
        if other.offset < offset {
            counts.insert(contentsOf: repeatElement(0, count: offset - other.offset), at: 0)
            offset = other.offset
        }
        let shift = other.offset - offset
        for position in other.counts.indices { counts[shift + position] &+= other.counts[position] }
        collapse()
    }

    /// Folds the lowest bins into one until at most `maximumBins` remain.
    ///
    /// - Complexity: O(bins).
    private mutating func collapse() {
        let excess = counts.count - Self.maximumBins
        guard excess > 0 else { return }
        let folded = counts[0...excess].reduce(0, &+)
        counts.removeFirst(excess)
        counts[0] = folded
        offset += excess
    }

    /// A zigzag offset, a varint bin count, then a varint count per bin.
    ///
    /// - Complexity: O(bins).
    func encode(into bytes: inout [UInt8]) {
        bytes.appendZigzag(Int64(offset))
        bytes.appendVarint(UInt64(counts.count))
        for count in counts { bytes.appendVarint(UInt64(bitPattern: count)) }
    }

    /// Reads what `encode(into:)` wrote.
    ///
    /// - Complexity: O(bins).
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> BinStore {
        var store = BinStore()
        let offset = try reader.readZigzag()
        let binCount = try reader.readCount()
        guard binCount <= maximumBins, abs(offset) < 1 << 40 else {
            throw AggregationError(.corruptState, "DDSketch bin range out of bounds")
        }
        store.offset = binCount == 0 ? 0 : Int(offset)
        store.counts.reserveCapacity(binCount)
        for _ in 0..<binCount { store.counts.append(Int64(bitPattern: try reader.readVarint())) }
        return store
    }
}
