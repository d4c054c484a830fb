import CremaStorage
import Testing

@Suite("Bytewise key order")
struct KeyOrderTests {
    /// Random keys with long shared prefixes, zero bytes and proper prefixes of one another, so
    /// the 16-byte prefix sort has to fall back to whole keys.
    private func randomKeys(_ random: inout SplitMix64, count: Int) -> [[UInt8]] {
        let stems = (0..<4).map { _ in random.bytes(count: Int(random.next() % 24)) }
        var keys = Set<[UInt8]>()
        while keys.count < count {
            var key = stems[Int(random.next() % 4)]
            switch random.next() % 3 {
            case 0: key = Array(key.prefix(Int(random.next() % 20)))
            case 1: key += [UInt8](repeating: 0, count: Int(random.next() % 3))
            default: key += random.bytes(count: Int(random.next() % 6)).map { $0 % 3 }
            }
            keys.insert(key)
        }
        return Array(keys)
    }

    @Test("sorted indices order random keys as lexicographic byte comparison does")
    func sortedIndicesMatchLexicographicOrder() {
        var random = SplitMix64(seed: 7)
        for count in [0, 1, 2, 50, 400] {
            let keys = randomKeys(&random, count: count)
            let sorted = BytewiseOrder.sortedIndices(of: keys).map { keys[$0] }
            #expect(sorted == keys.sorted { $0.lexicographicallyPrecedes($1) })
            for (left, right) in zip(keys, keys.shuffled(using: &random)) {
                #expect(BytewiseOrder.precedes(left, right) == left.lexicographicallyPrecedes(right))
            }
        }
    }

    @Test("puts added in key order are all written")
    func putsInKeyOrderAreWritten() throws {
        var random = SplitMix64(seed: 8)
        let keys = randomKeys(&random, count: 300).filter { !$0.isEmpty }
        let entries = keys.map { (key: $0, value: random.bytes(count: Int(random.next() % 30))) }
        try withTemporaryDatabase { database in
            let batch = database.makeWriteBatch()
            batch.putInKeyOrder(entries, in: .rows)
            try database.write(batch, sync: false)
            for entry in entries {
                #expect(try database.get(entry.key, in: .rows) == entry.value)
            }
        }
    }
}
