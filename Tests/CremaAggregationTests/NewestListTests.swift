import Testing
@testable import CremaAggregation

/// `NewestList` against brute force: after any inserts, in and out of order, with many
/// repeated values, its entries are the newest `limit` of everything inserted (each value once
/// at its newest occurrence when distinct), also when the list was re-created from its entries
/// between inserts, as decoding a stored state does.
@Suite struct NewestListTests {
    /// The newest `limit` of `inserted`, newest first, each value once when `distinct`.
    private func bruteForce(_ inserted: [Stamped<String>], limit: Int, distinct: Bool) -> [Stamped<String>] {
        var newestFirst = inserted.sorted { $0.isNewer(than: $1) }
        if distinct {
            var seen = Set<String>()
            newestFirst = newestFirst.filter { seen.insert($0.value).inserted }
        }
        return Array(newestFirst.prefix(limit))
    }

    @Test(arguments: [(1, true), (3, true), (50, true), (3, false), (50, false)])
    func keepsTheNewestOfEverythingInserted(limit: Int, distinct: Bool) {
        var generator = SplitMix64(seed: UInt64(limit * 2 + (distinct ? 1 : 0)))
        for _ in 0..<40 {
            var list = NewestList<String>()
            var inserted: [Stamped<String>] = []
            let alphabet = Int.random(in: 1...80, using: &generator)
            for arrival in 1...UInt64.random(in: 1...150, using: &generator) {
                let entry = Stamped(
                    value: "v\(Int.random(in: 0..<alphabet, using: &generator))",
                    time: Int64.random(in: 0...40, using: &generator), arrival: arrival)
                list.insert(entry, limit: limit, distinct: distinct)
                inserted.append(entry)
                #expect(list.entries == bruteForce(inserted, limit: limit, distinct: distinct))
                if Int.random(in: 0..<10, using: &generator) == 0 { list = NewestList(entries: list.entries) }
            }
        }
    }
}
