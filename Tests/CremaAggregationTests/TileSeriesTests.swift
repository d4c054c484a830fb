import Testing
@testable import CremaAggregation

/// A tile series (two newest tiles inline, older ones in a buffer) holds exactly the tiles a
/// sorted dictionary would, whatever the order of adds, inserts and evictions.
@Suite struct TileSeriesTests {
    /// The series' tiles as (index, state) pairs, oldest first, read through positions.
    private func positional(_ series: TileSeries<Int64>) -> [(Int64, Int64)] {
        (0..<series.count).map { (series[$0].index, series[$0].state) }
    }

    /// The series' tiles as `forEachTile` visits them in place.
    private func inPlace(_ series: inout TileSeries<Int64>) -> [(Int64, Int64)] {
        var visited: [(Int64, Int64)] = []
        withUnsafeMutablePointer(to: &series) { address in
            TileSeries.forEachTile(ofSeriesAt: address) { visited.append(($0, $1.pointee)) }
        }
        return visited
    }

    @Test(arguments: 0..<40)
    func matchesASortedDictionaryUnderRandomOperations(seed: Int) {
        var generator = SplitMix64(seed: UInt64(seed) &* 2_654_435_761 &+ 1)
        var series = TileSeries<Int64>(empty: 0)
        var model: [Int64: Int64] = [:]
        var evictedBelow: Int64 = .min
        for step in 0..<300 {
            let roll = Int.random(in: 0..<100, using: &generator)
            if roll < 8 {
                let bound = (model.keys.min() ?? 0) + Int64.random(in: 0...4, using: &generator)
                series.evict(below: bound, empty: 0)
                model = model.filter { $0.key >= bound }
                evictedBelow = max(evictedBelow, bound)
            } else {
                // Mostly near the newest tile, sometimes far back: late events, new tiles.
                let newest = model.keys.max() ?? 100
                let index = max(newest + Int64.random(in: -12...2, using: &generator), evictedBelow)
                let amount = Int64(step + 1)
                if roll < 40, series.lastIndex == index {
                    series.withNewest { $0 += amount }
                } else {
                    series.withTile(index, inserting: 0) { $0 += amount }
                }
                model[index, default: 0] += amount
            }
            let expected = model.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            #expect(positional(series).elementsEqual(expected) { $0 == $1 }, "step \(step)")
            #expect(inPlace(&series).elementsEqual(expected) { $0 == $1 }, "step \(step)")
            #expect(series.tiles.map(\.index) == expected.map(\.0))
            #expect(series.firstIndex == expected.first?.0)
            #expect(series.lastIndex == expected.last?.0)
            #expect(series.isEmpty == expected.isEmpty)
            let probe = (expected.first?.0 ?? 0) + Int64.random(in: -2...14, using: &generator)
            #expect(series.lowerBound(probe) == expected.firstIndex { $0.0 >= probe } ?? expected.count)
        }
    }

    @Test func appendedTilesMoveOlderOnesOutOfLineInOrder() {
        var series = TileSeries<Int64>(empty: 0)
        for index in 1...5 as ClosedRange<Int64> {
            series.append(Tile(index: index, state: index * 10))
        }
        #expect(positional(series).map(\.0) == [1, 2, 3, 4, 5])
        #expect(positional(series).map(\.1) == [10, 20, 30, 40, 50])
        series.evict(below: 5, empty: 0)
        #expect(positional(series).map(\.0) == [5])
        #expect(series.firstIndex == 5)
        series.evict(below: 6, empty: 0)
        #expect(series.isEmpty)
        #expect(series.firstIndex == nil && series.lastIndex == nil)
    }
}
