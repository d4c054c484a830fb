/// The counts of DDSketch bins, holding at most `maximumBins` consecutive indices: when a
/// wider range is needed, the lowest bins collapse into one (the quantiles of the smallest
/// magnitudes lose accuracy first).
///
/// Up to `sparseLimit` bins are kept sparse, as (index, count) pairs; beyond, as contiguous
/// counts over their range. A tile of a few dozen values spread over hundreds of bins then
/// takes about a tenth of the memory, and a busy tile no more than before.
struct BinStore: Sendable {
    /// The widest index range a store keeps.
    static let maximumBins = 2_048
    /// The most bins with a count kept as pairs.
    static let sparseLimit = 64

    /// One bin with a count.
    struct Bin: Sendable, Equatable {
        /// The bin index.
        var index: Int
        /// The number of values in it (not zero).
        var count: Int64
    }

    /// While sparse: the bins with a count, ascending by index.
    private var sparse: [Bin] = []
    /// Once dense: the index of `dense[0]`.
    private var offset = 0
    /// Once dense: the count of each bin from `offset`; empty while sparse.
    private var dense: [Int64] = []

    /// Creates an empty store.
    init() {}

    /// The lines of the sparse bins `prefetch(storeAt:)` brings in.
    private static var firstLines: Int { 2 }

    /// Prefetches the start of the sparse bins of the store at `address`.
    @inline(__always)
    static func prefetch(storeAt address: UnsafeRawPointer) {
        Prefetch.collection(at: address + MemoryLayout<Self>.offset(of: \Self.sparse)!, lines: firstLines)
    }

    /// Prefetches the rest of the sparse bins of the store at `address` (at most `sparseLimit`),
    /// once `prefetch(storeAt:)` has brought in their count: adding reads the newest bin, then
    /// searches them.
    @inline(__always)
    static func prefetchRest(ofStoreAt address: UnsafeRawPointer) {
        Prefetch.lines(from: firstLines, ofArrayAt: address + MemoryLayout<Self>.offset(of: \Self.sparse)!, elementStride: MemoryLayout<Bin>.stride)
    }

    /// The number of values.
    ///
    /// - Complexity: O(bins).
    var total: Int64 { dense.isEmpty ? sparse.reduce(0) { $0 &+ $1.count } : dense.reduce(0, &+) }

    /// Whether the store holds no bins.
    var isEmpty: Bool { sparse.isEmpty && dense.isEmpty }

    /// The lowest and highest index with a count, or nil when empty.
    var indexRange: ClosedRange<Int>? {
        if !dense.isEmpty { return offset...(offset + dense.count - 1) }
        guard let first = sparse.first, let last = sparse.last else { return nil }
        return first.index...last.index
    }

    /// The first bin with a count, in ascending (or descending) index order, for which
    /// `isFound` is true; `isFound` sees every bin before it, in order.
    ///
    /// - Complexity: O(bins).
    func firstBin(descending: Bool = false, where isFound: (Bin) -> Bool) -> Bin? {
        if dense.isEmpty {
            return descending ? sparse.reversed().first(where: isFound) : sparse.first(where: isFound)
        }
        let positions = descending
            ? stride(from: dense.count - 1, through: 0, by: -1) : stride(from: 0, through: dense.count - 1, by: 1)
        for position in positions where dense[position] != 0 {
            let bin = Bin(index: offset + position, count: dense[position])
            if isFound(bin) { return bin }
        }
        return nil
    }

    /// The bins with a count, ascending by index.
    ///
    /// - Complexity: O(bins).
    var bins: [Bin] {
        guard !dense.isEmpty else { return sparse }
        return dense.indices.compactMap { dense[$0] == 0 ? nil : Bin(index: offset + $0, count: dense[$0]) }
    }

    /// Adds `count` values to bin `index`.
    ///
    /// - Complexity: O(sparseLimit) sparse; dense O(1) within the current range, O(bins) when it widens.
    mutating func add(index: Int, count: Int64 = 1) {
        if dense.isEmpty {
            addSparse(index: index, count: count)
            if sparse.count > Self.sparseLimit { densify() }
            return
        }
        let high = offset + dense.count - 1
        var index = index
        if index > high {
            dense.append(contentsOf: repeatElement(0, count: index - high))
        } else if index < offset {
            index = Swift.max(index, high - Self.maximumBins + 1)
            if index < offset {
                dense.insert(contentsOf: repeatElement(0, count: offset - index), at: 0)
                offset = index
            }
        }
        dense[index - offset] &+= count
        collapseDense()
    }

    /// Adds another store's bins, widening this store's range first when needed.
    ///
    /// - Complexity: O(bins of the union range).
    mutating func merge(_ other: BinStore) {
        guard !other.isEmpty else { return }
        guard !isEmpty else {
            self = other
            return
        }
        if dense.isEmpty && other.dense.isEmpty {
            mergeSparse(other.sparse)
            if sparse.count > Self.sparseLimit { densify() }
            return
        }
        densify()
        var other = other
        other.densify()
        let otherEnd = other.offset + other.dense.count
        if otherEnd > offset + dense.count {
            dense.append(contentsOf: repeatElement(0, count: otherEnd - offset - dense.count))
        }
        if other.offset < offset {
            dense.insert(contentsOf: repeatElement(0, count: offset - other.offset), at: 0)
            offset = other.offset
        }
        let shift = other.offset - offset
        for position in other.dense.indices { dense[shift + position] &+= other.dense[position] }
        collapseDense()
    }

    /// A zigzag offset, a varint bin count, then a varint count per bin of the range (the
    /// dense layout, whichever way the store holds its bins).
    ///
    /// - Complexity: O(range).
    func encode(into bytes: inout [UInt8]) {
        guard let range = indexRange else {
            bytes.appendZigzag(0)
            bytes.appendVarint(0)
            return
        }
        bytes.appendZigzag(Int64(range.lowerBound))
        bytes.appendVarint(UInt64(range.count))
        if !dense.isEmpty {
            for count in dense { bytes.appendVarint(UInt64(bitPattern: count)) }
            return
        }
        var next = range.lowerBound
        for bin in sparse {
            for _ in next..<bin.index { bytes.append(0) }
            bytes.appendVarint(UInt64(bitPattern: bin.count))
            next = bin.index + 1
        }
    }

    /// Reads what `encode(into:)` wrote, sparse when at most `sparseLimit` bins have a count.
    ///
    /// - Complexity: O(range).
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> BinStore {
        let offset = try reader.readZigzag()
        let binCount = try reader.readCount()
        guard binCount <= maximumBins, abs(offset) < 1 << 40 else {
            throw AggregationError(.corruptState, "DDSketch bin range out of bounds")
        }
        var counts: [Int64] = []
        counts.reserveCapacity(binCount)
        for _ in 0..<binCount { counts.append(Int64(bitPattern: try reader.readVarint())) }
        var store = BinStore()
        guard binCount > 0 else { return store }
        if counts.lazy.filter({ $0 != 0 }).count > sparseLimit {
            store.offset = Int(offset)
            store.dense = counts
        } else {
            store.sparse = counts.indices.compactMap { counts[$0] == 0 ? nil : Bin(index: Int(offset) + $0, count: counts[$0]) }
        }
        return store
    }

    /// Adds to a sparse store, keeping the range within `maximumBins` as `add` does.
    private mutating func addSparse(index: Int, count: Int64) {
        guard count != 0 else { return }
        var index = index
        if let high = sparse.last?.index { index = Swift.max(index, high - Self.maximumBins + 1) }
        var low = 0
        var high = sparse.count
        while low < high {
            let middle = (low + high) / 2
            if sparse[middle].index < index { low = middle + 1 } else { high = middle }
        }
        if low < sparse.count && sparse[low].index == index {
            sparse[low].count &+= count
        } else {
            sparse.insert(Bin(index: index, count: count), at: low, growingFrom: 8)
        }
        collapseSparse()
    }

    /// Merges sorted sparse bins into this sparse store.
    private mutating func mergeSparse(_ other: [Bin]) {
        var merged: [Bin] = []
        merged.reserveCapacity(sparse.count + other.count)
        var left = 0
        var right = 0
        while left < sparse.count || right < other.count {
            if right == other.count || (left < sparse.count && sparse[left].index < other[right].index) {
                merged.append(sparse[left])
                left += 1
            } else if left == sparse.count || other[right].index < sparse[left].index {
                merged.append(other[right])
                right += 1
            } else {
                merged.append(Bin(index: sparse[left].index, count: sparse[left].count &+ other[right].count))
                left += 1
                right += 1
            }
        }
        sparse = merged
        collapseSparse()
    }

    /// Folds the sparse bins below the range's floor into the floor's bin.
    private mutating func collapseSparse() {
        guard let high = sparse.last?.index, sparse[0].index < high - Self.maximumBins + 1 else { return }
        let floor = high - Self.maximumBins + 1
        let folded = sparse.prefix { $0.index <= floor }
        let sum = folded.reduce(0) { $0 &+ $1.count }
        sparse.replaceSubrange(0..<folded.count, with: [Bin(index: floor, count: sum)])
    }

    /// Folds the lowest dense bins into one until at most `maximumBins` remain.
    private mutating func collapseDense() {
        let excess = dense.count - Self.maximumBins
        guard excess > 0 else { return }
        let folded = dense[0...excess].reduce(0, &+)
        dense.removeFirst(excess)
        dense[0] = folded
        offset += excess
    }

    /// Turns a sparse store dense (nothing to do when dense or empty).
    private mutating func densify() {
        guard dense.isEmpty, let first = sparse.first, let last = sparse.last else { return }
        offset = first.index
        dense = Array(repeating: 0, count: last.index - first.index + 1)
        for bin in sparse { dense[bin.index - offset] = bin.count }
        sparse = []
    }
}

extension BinStore: Equatable {
    /// Equal when the same bins have the same counts, however each store holds them.
    static func == (left: BinStore, right: BinStore) -> Bool {
        if left.isEmpty || right.isEmpty { return left.isEmpty && right.isEmpty }
        if left.dense.isEmpty && right.dense.isEmpty { return left.sparse == right.sparse }
        return left.bins == right.bins
    }
}
