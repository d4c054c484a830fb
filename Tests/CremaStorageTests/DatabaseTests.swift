import CremaStorage
import Foundation
import Testing

@Suite("Database")
struct DatabaseTests {
    @Test("data written before close is there after reopening")
    func reopenKeepsData() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db"
            do {
                let database = try Database(path: path, options: testOptions)
                let batch = database.makeWriteBatch()
                batch.put([1, 2, 3], value: [4, 5, 6], in: .rows)
                try database.write(batch, sync: false)
            }
            let reopened = try Database(path: path, options: testOptions)
            #expect(try reopened.get([1, 2, 3], in: .rows) == [4, 5, 6])
            #expect(try reopened.get([1, 2], in: .rows) == nil)
        }
    }

    @Test("column families keep separate key spaces")
    func columnFamiliesAreSeparate() throws {
        try withTemporaryDatabase { database in
            let batch = database.makeWriteBatch()
            for family in ColumnFamily.allCases {
                batch.put([7], value: Array(family.name.utf8), in: family)
            }
            try database.write(batch, sync: false)
            for family in ColumnFamily.allCases {
                #expect(try database.get([7], in: family) == Array(family.name.utf8))
            }
            batch.clear()
            batch.delete([7], in: .log)
            try database.write(batch, sync: false)
            #expect(try database.get([7], in: .log) == nil)
            #expect(try database.get([7], in: .rows) == Array("rows".utf8))
            #expect(try database.get([7], in: .meta) == Array("meta".utf8))
        }
    }

    @Test("one batch across rows, log and meta is applied as a whole and survives reopening")
    func writeBatchIsAtomicAcrossFamilies() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db"
            do {
                let database = try Database(path: path, options: testOptions)
                let batch = database.makeWriteBatch()
                #expect(batch.isEmpty)
                batch.put(RowKey.make(groupID: 1, entityKey: [9]), value: [1], in: .rows)
                batch.put(LogCodec.key(sequence: 42), value: [2], in: .log)
                MetaStore.putProducerSequence(42, for: "clicks-1", into: batch)
                #expect(batch.count == 3)
                #expect(try database.get(LogCodec.key(sequence: 42), in: .log) == nil)
                try database.write(batch, sync: false)
            }
            let reopened = try Database(path: path, options: testOptions)
            #expect(try reopened.get(RowKey.make(groupID: 1, entityKey: [9]), in: .rows) == [1])
            #expect(try reopened.get(LogCodec.key(sequence: 42), in: .log) == [2])
            #expect(try MetaStore.producerSequence(for: "clicks-1", in: reopened) == 42)
        }
    }

    @Test("a batch written without the WAL is readable at once and on disk once closed")
    func unloggedWritesReachDiskAtClose() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db"
            let rowKey = RowKey.make(groupID: 1, entityKey: [9])
            do {
                let database = try Database(path: path, options: testOptions)
                let batch = database.makeWriteBatch()
                batch.put(rowKey, value: [1], in: .rows)
                MetaStore.putCheckpoint(77, into: batch)
                try database.writeUnlogged(batch)
                #expect(try database.get(rowKey, in: .rows) == [1])
                #expect(try MetaStore.checkpoint(in: database) == 77)
                database.close()
            }
            let reopened = try Database(path: path, options: testOptions)
            #expect(try reopened.get(rowKey, in: .rows) == [1])
            #expect(try MetaStore.checkpoint(in: reopened) == 77)
        }
    }

    @Test("a cleared batch writes nothing")
    func clearedBatchWritesNothing() throws {
        try withTemporaryDatabase { database in
            let batch = database.makeWriteBatch()
            batch.put([1], value: [1], in: .rows)
            batch.clear()
            #expect(batch.count == 0)
            try database.write(batch, sync: false)
            #expect(try database.get([1], in: .rows) == nil)
        }
    }

    @Test("synced writes are readable and survive reopening")
    func syncWrites() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db"
            do {
                let database = try Database(path: path, options: testOptions)
                for index in 0..<10 as Range<UInt64> {
                    let batch = database.makeWriteBatch()
                    batch.put(bigEndianKey(index), value: [UInt8(index)], in: .log)
                    try database.write(batch, sync: true)
                    #expect(try database.get(bigEndianKey(index), in: .log) == [UInt8(index)])
                }
            }
            let reopened = try Database(path: path, options: testOptions)
            for index in 0..<10 as Range<UInt64> {
                #expect(try reopened.get(bigEndianKey(index), in: .log) == [UInt8(index)])
            }
        }
    }

    @Test("scan visits a key range in order and stops when asked")
    func scanRanges() throws {
        try withTemporaryDatabase { database in
            let batch = database.makeWriteBatch()
            for index in 0..<100 as Range<UInt64> {
                batch.put(bigEndianKey(index), value: [UInt8(index)], in: .log)
            }
            batch.put(bigEndianKey(1000), value: [0], in: .rows)
            try database.write(batch, sync: false)

            func keys(from lower: UInt64?, to upper: UInt64?, limit: Int = .max) throws -> [UInt64] {
                var seen: [UInt64] = []
                try database.scan(in: .log, from: lower.map(bigEndianKey), to: upper.map(bigEndianKey)) { key, value in
                    let sequence = try LogCodec.sequence(fromKey: key)
                    #expect(value.count == 1 && UInt64(value[0]) == sequence)
                    seen.append(sequence)
                    return seen.count < limit
                }
                return seen
            }
            #expect(try keys(from: nil, to: nil) == Array(0..<100))
            #expect(try keys(from: 10, to: 20) == Array(10..<20))
            #expect(try keys(from: 95, to: nil) == Array(95..<100))
            #expect(try keys(from: nil, to: 3) == [0, 1, 2])
            #expect(try keys(from: 50, to: 50) == [])
            #expect(try keys(from: 10, to: nil, limit: 5) == Array(10..<15))
        }
    }

    @Test("lastKey finds the highest key, or the highest not after a bound, nil when there is none")
    func lastKey() throws {
        try withTemporaryDatabase { database in
            #expect(try database.lastKey(in: .log) == nil)
            let batch = database.makeWriteBatch()
            for sequence in [5, 300, 70_000, 2] as [UInt64] {
                batch.put(LogCodec.key(sequence: sequence), value: [], in: .log)
            }
            batch.put(bigEndianKey(.max), value: [], in: .rows)
            try database.write(batch, sync: false)
            #expect(try database.lastKey(in: .log).map(LogCodec.sequence(fromKey:)) == 70_000)
            try database.flush()
            #expect(try database.lastKey(in: .log).map(LogCodec.sequence(fromKey:)) == 70_000)
            let notAfter = { (bound: UInt64) in
                try database.lastKey(in: .log, notAfter: LogCodec.key(sequence: bound)).map(LogCodec.sequence(fromKey:))
            }
            #expect(try notAfter(1) == nil)
            #expect(try notAfter(2) == 2)
            #expect(try notAfter(299) == 5)
            #expect(try notAfter(300) == 300)
            #expect(try notAfter(.max) == 70_000)
        }
    }

    @Test("deleteRange removes exactly the half-open range, in memtable and in SST files")
    func deleteRange() throws {
        try withTemporaryDatabase { database in
            let batch = database.makeWriteBatch()
            for index in 0..<100 as Range<UInt64> {
                batch.put(bigEndianKey(index), value: [1], in: .log)
                batch.put(bigEndianKey(index), value: [1], in: .rows)
            }
            try database.write(batch, sync: false)
            try database.flush()
            try database.deleteRange(in: .log, from: bigEndianKey(0), to: bigEndianKey(50))
            var remaining: [UInt64] = []
            try database.scan(in: .log) { key, _ in
                remaining.append(try LogCodec.sequence(fromKey: key))
                return true
            }
            #expect(remaining == Array(50..<100))
            #expect(try database.get(bigEndianKey(49), in: .log) == nil)
            #expect(try database.get(bigEndianKey(50), in: .log) == [1])
            #expect(try database.get(bigEndianKey(10), in: .rows) == [1])
        }
    }

    @Test("the row filter removes what it says when rows are compacted, and nothing else")
    func compactionFilter() throws {
        // Remove rows whose value starts with 0 ("expired").
        try withTemporaryDatabase(rowFilter: { _, value in value.first == 0 }) { database in
            let batch = database.makeWriteBatch()
            for index in 0..<200 as Range<UInt64> {
                let value: [UInt8] = [UInt8(index % 2), 0xAB]
                batch.put(RowKey.make(groupID: 3, entityKey: bigEndianKey(index)), value: value, in: .rows)
                batch.put(bigEndianKey(index), value: [0], in: .log)
            }
            try database.write(batch, sync: false)
            try database.flush()
            database.compactRange(in: .rows)
            database.compactRange(in: .log)
            var kept: [UInt64] = []
            try database.scan(in: .rows) { key, value in
                #expect(value.first == 1)
                let entity = try RowKey.entityKey(of: key)
                kept.append(entity.reduce(0) { $0 << 8 | UInt64($1) })
                return true
            }
            #expect(kept == (0..<200).filter { $0 % 2 == 1 })
            #expect(try database.get(bigEndianKey(0), in: .log) == [0])
        }
    }

    @Test("opening a regular file fails with RocksDB's message")
    func openRegularFileFails() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/not-a-directory"
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let error = #expect(throws: StorageError.self) {
                _ = try Database(path: path, options: testOptions)
            }
            #expect(error?.code == .rocksdb)
            #expect(error?.message.contains(path) == true)
        }
    }

    @Test("a second open of a database in use fails with RocksDB's lock message")
    func secondOpenFails() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/db"
            let database = try Database(path: path, options: testOptions)
            let error = #expect(throws: StorageError.self) {
                _ = try Database(path: path, options: testOptions)
            }
            #expect(error?.code == .rocksdb)
            #expect(error?.message.lowercased().contains("lock") == true)
            withExtendedLifetime(database) {}
        }
    }

    @Test("a missing database is not created when createsIfMissing is false")
    func missingDatabaseIsNotCreated() throws {
        try withTemporaryDirectory { directory in
            var options = testOptions
            options.createsIfMissing = false
            let error = #expect(throws: StorageError.self) {
                _ = try Database(path: directory + "/absent", options: options)
            }
            #expect(error?.code == .rocksdb)
            #expect(error?.message.isEmpty == false)
        }
    }

    @Test("properties and statistics report what RocksDB counts")
    func propertiesAndStatistics() throws {
        try withTemporaryDatabase { database in
            let batch = database.makeWriteBatch()
            for index in 0..<500 as Range<UInt64> {
                batch.put(bigEndianKey(index), value: [1, 2, 3], in: .rows)
            }
            try database.write(batch, sync: false)
            try database.flush()
            _ = try database.get(bigEndianKey(7), in: .rows)

            #expect(database.intProperty("rocksdb.estimate-num-keys", in: .rows) == 500)
            #expect(database.intProperty("rocksdb.estimate-num-keys", in: .log) == 0)
            #expect(database.intProperty("rocksdb.block-cache-usage") != nil)
            #expect(database.property("rocksdb.stats")?.isEmpty == false)
            #expect(database.property("rocksdb.no-such-property") == nil)
            #expect(database.statistics()?.contains("rocksdb.block.cache.miss") == true)
            #expect(database.ticker("rocksdb.number.keys.written") == 500)
            #expect(database.ticker("rocksdb.no.such.ticker") == nil)
        }
    }
}
