import Testing
@testable import CremaAggregation

/// DDSketch's bin store, sparse up to `sparseLimit` bins and dense beyond, against a model:
/// a dictionary of counts whose bins below `highest − maximumBins + 1` fold into that bin.
@Suite struct BinStoreTests {
    /// The model: counts by index, folded as the store folds them.
    private struct Model {
        var counts: [Int: Int64] = [:]

        /// Adds as `BinStore.add` does: an index below the floor of the current range counts at the floor.
        mutating func add(index: Int, count: Int64) {
            var index = index
            if let high = counts.keys.max() { index = max(index, high - BinStore.maximumBins + 1) }
            counts[index, default: 0] += count
            fold()
        }

        /// Merges as `BinStore.merge` does: the union of the bins, then folded.
        mutating func merge(_ other: Model) {
            counts.merge(other.counts, uniquingKeysWith: +)
            fold()
        }

        private mutating func fold() {
            guard let high = counts.keys.max() else { return }
            let floor = high - BinStore.maximumBins + 1
            let below = counts.filter { $0.key < floor }
            guard !below.isEmpty else { return }
            for key in below.keys { counts[key] = nil }
            counts[floor, default: 0] += below.values.reduce(0, +)
        }

        var bins: [BinStore.Bin] { counts.keys.sorted().map { BinStore.Bin(index: $0, count: counts[$0]!) } }
    }

    /// Random indices: `spread` wide around a centre that drifts upwards by `drift` per add.
    private static func stream(seed: UInt64, adds: Int, spread: Int, drift: Int) -> [(index: Int, count: Int64)] {
        var random = SplitMix64(seed: seed)
        return (0..<adds).map { step in
            (step * drift + Int(random.next() % UInt64(spread)) - spread / 2, Int64(random.next() % 3 + 1))
        }
    }

    /// Narrow (stays sparse), wide (turns dense) and drifting past `maximumBins` (folds).
    static let shapes: [(spread: Int, drift: Int)] = [(40, 0), (600, 0), (300, 9), (5_000, 0)]

    @Test(arguments: shapes.indices)
    func addsMatchTheModelAndRoundTrip(_ shape: Int) throws {
        let (spread, drift) = Self.shapes[shape]
        var store = BinStore()
        var model = Model()
        for (step, add) in Self.stream(seed: UInt64(shape + 1), adds: 700, spread: spread, drift: drift).enumerated() {
            store.add(index: add.index, count: add.count)
            model.add(index: add.index, count: add.count)
            #expect(store.bins == model.bins, "after add \(step)")
            #expect(store.indexRange!.count <= BinStore.maximumBins)
            guard step % 50 == 0 else { continue }
            var bytes: [UInt8] = []
            store.encode(into: &bytes)
            let decoded = try bytes.withUnsafeBytes { buffer in
                var reader = ByteReader(buffer)
                return try BinStore.decode(from: &reader)
            }
            #expect(decoded == store, "round trip after add \(step)")
            #expect(decoded.bins == store.bins)
        }
        #expect(store.total == model.counts.values.reduce(0, +))
    }

    @Test(arguments: shapes.indices)
    func mergesOfSparseAndDenseMatchTheModel(_ shape: Int) {
        let (spread, drift) = Self.shapes[shape]
        for (leftAdds, rightAdds) in [(10, 20), (10, 300), (300, 10), (300, 300)] {
            var left = BinStore()
            var right = BinStore()
            var leftModel = Model()
            var rightModel = Model()
            for add in Self.stream(seed: UInt64(shape + 11), adds: leftAdds, spread: spread, drift: drift) {
                left.add(index: add.index, count: add.count)
                leftModel.add(index: add.index, count: add.count)
            }
            for add in Self.stream(seed: UInt64(shape + 21), adds: rightAdds, spread: spread, drift: drift) {
                right.add(index: add.index + 100, count: add.count)
                rightModel.add(index: add.index + 100, count: add.count)
            }
            var merged = left
            merged.merge(right)
            leftModel.merge(rightModel)
            #expect(merged.bins == leftModel.bins, "\(leftAdds) + \(rightAdds) adds")
            var reversed = right
            reversed.merge(left)
            #expect(reversed == merged, "merge commutes")
        }
    }
}
