import Testing
@testable import CremaAggregation

/// The frequency table (sorted array while small, Dictionary beyond) against a Dictionary
/// model of the same space-saving rules, across the switch between the two.
@Suite struct FrequencyTableTests {
    /// Space-saving on a plain Dictionary: the rules `FrequencyTable` implements.
    struct Model {
        var counts: [Int64: Int64] = [:]

        mutating func add(_ value: Int64, capacity: Int) {
            if counts[value] != nil {
                counts[value]! += 1
            } else if counts.count < capacity {
                counts[value] = 1
            } else if let smallest = counts.min(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }) {
                counts[smallest.key] = nil
                counts[value] = smallest.value + 1
            }
        }

        mutating func merge(_ other: Model) { counts.merge(other.counts, uniquingKeysWith: +) }

        mutating func bound(capacity: Int) {
            guard counts.count > capacity else { return }
            let kept = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(capacity)
            counts = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }

        var entries: [Entry] { counts.sorted { $0.key < $1.key }.map { Entry(value: $0.key, count: $0.value) } }
    }

    /// One entry, comparable.
    struct Entry: Equatable {
        let value: Int64
        let count: Int64
    }

    private func entries(_ table: FrequencyTable<Int64>) -> [Entry] {
        table.entriesByValue().map { Entry(value: $0.value, count: $0.count) }
    }

    @Test(arguments: [3, 10, 32, 33, 100])
    func matchesTheModel(capacity: Int) throws {
        var generator = SplitMix64(seed: UInt64(capacity))
        for _ in 0..<20 {
            var tables: [FrequencyTable<Int64>] = []
            var models: [Model] = []
            for _ in 0..<2 {
                var table = FrequencyTable<Int64>()
                var model = Model()
                let distinct = Int64.random(in: 1...70, using: &generator)
                for _ in 0..<Int.random(in: 0..<300, using: &generator) {
                    let value = Int64.random(in: 0..<distinct, using: &generator)
                    table.add(value, capacity: capacity)
                    model.add(value, capacity: capacity)
                }
                #expect(entries(table) == model.entries)
                #expect(table.count == model.counts.count)
                var bytes: [UInt8] = []
                table.encode(into: &bytes)
                let decoded = try bytes.withUnsafeBytes { buffer in
                    var reader = ByteReader(buffer)
                    return try FrequencyTable<Int64>.decode(from: &reader)
                }
                #expect(decoded == table)
                #expect(entries(decoded) == model.entries)
                tables.append(table)
                models.append(model)
            }
            tables[0].merge(tables[1])
            models[0].merge(models[1])
            #expect(entries(tables[0]) == models[0].entries, "merge adds counts")
            tables[0].bound(capacity: capacity)
            models[0].bound(capacity: capacity)
            #expect(entries(tables[0]) == models[0].entries, "bound keeps the largest counts")
        }
    }

    @Test func decodingUnsortedOrRepeatedValuesKeepsTheLastCount() throws {
        var bytes: [UInt8] = []
        bytes.appendVarint(3)
        for (value, count) in [(Int64(5), UInt64(2)), (1, 4), (5, 7)] {
            value.encode(into: &bytes)
            bytes.appendVarint(count)
        }
        let table = try bytes.withUnsafeBytes { buffer in
            var reader = ByteReader(buffer)
            return try FrequencyTable<Int64>.decode(from: &reader)
        }
        #expect(entries(table) == [Entry(value: 1, count: 4), Entry(value: 5, count: 7)])
    }
}
