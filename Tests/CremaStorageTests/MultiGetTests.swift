import CremaStorage
import Testing

@Suite("Database.batchedMultiGet")
struct MultiGetTests {
    /// Stores values for the even numbers below `2 * count`, half flushed to SST files and half
    /// in the memtable; returns what is stored.
    private func populate(_ database: Database, count: Int) throws -> [[UInt8]: [UInt8]] {
        var stored: [[UInt8]: [UInt8]] = [:]
        let batch = database.makeWriteBatch()
        for index in stride(from: 0, to: 2 * count, by: 2) {
            let key = RowKey.make(groupID: 1, entityKey: EntityKeyCodec.encode([.int(Int64(index))]))
            let value = Array("value-\(index)".utf8) + [UInt8](repeating: UInt8(index % 256), count: index % 17)
            stored[key] = value
            batch.put(key, value: value, in: .rows)
            if index == count {
                try database.write(batch, sync: false)
                try database.flush()
                batch.clear()
            }
        }
        try database.write(batch, sync: false)
        return stored
    }

    @Test("results follow request order, with nil for missing keys and repeated keys answered each time",
          arguments: [1, 100, 10_000])
    func requestOrder(count: Int) throws {
        try withTemporaryDatabase { database in
            let stored = try populate(database, count: count)
            var random = SplitMix64(seed: UInt64(count))
            // Present keys, absent keys (odd numbers, another group, empty), and repeats, shuffled.
            var requests = Array(stored.keys)
            requests += (0..<count).map {
                RowKey.make(groupID: 1, entityKey: EntityKeyCodec.encode([.int(Int64(2 * $0 + 1))]))
            }
            requests.append(RowKey.make(groupID: 2, entityKey: []))
            requests.append([])
            requests += (0..<max(1, count / 3)).map { _ in requests.randomElement(using: &random)! }
            requests.shuffle(using: &random)

            let results = try database.batchedMultiGet(requests, in: .rows)
            #expect(results.count == requests.count)
            #expect(results == requests.map { stored[$0] })
            #expect(results.compactMap { $0 }.count >= stored.count)
        }
    }

    @Test("the visiting form hands each found value to its request index")
    func visitingForm() throws {
        try withTemporaryDatabase { database in
            let stored = try populate(database, count: 300)
            var random = SplitMix64(seed: 7)
            var requests = Array(stored.keys) + [[9, 9, 9]]
            requests += requests.prefix(20)
            requests.shuffle(using: &random)
            var seen = [[UInt8]?](repeating: nil, count: requests.count)
            try database.batchedMultiGet(requests, in: .rows) { index, value in
                #expect(seen[index] == nil)
                seen[index] = Array(value)
            }
            #expect(seen == requests.map { stored[$0] })
        }
    }

    @Test("an empty request reads nothing; another column family does not see rows")
    func emptyAndOtherFamily() throws {
        try withTemporaryDatabase { database in
            let stored = try populate(database, count: 10)
            #expect(try database.batchedMultiGet([], in: .rows).isEmpty)
            let keys = Array(stored.keys)
            #expect(try database.batchedMultiGet(keys, in: .log) == keys.map { _ in nil })
        }
    }
}
