import CremaStorage
import Testing

@Suite("MetaStore")
struct MetaStoreTests {
    @Test("producer sequences default to 0, are written through a batch and listed")
    func producerSequences() throws {
        try withTemporaryDatabase { database in
            #expect(try MetaStore.producerSequence(for: "clicks-1", in: database) == 0)
            #expect(try MetaStore.producerSequences(in: database) == [:])
            let batch = database.makeWriteBatch()
            MetaStore.putProducerSequence(41, for: "clicks-1", into: batch)
            MetaStore.putProducerSequence(7, for: "views/é", into: batch)
            MetaStore.putProducerSequence(1, for: "", into: batch)
            #expect(try MetaStore.producerSequence(for: "clicks-1", in: database) == 0)
            try database.write(batch, sync: true)
            #expect(try MetaStore.producerSequence(for: "clicks-1", in: database) == 41)
            #expect(try MetaStore.producerSequences(in: database) == ["clicks-1": 41, "views/é": 7, "": 1])
        }
    }

    @Test("the next arrival sequence starts at 0 and is written through a batch")
    func nextArrival() throws {
        try withTemporaryDatabase { database in
            #expect(try MetaStore.nextArrival(in: database) == 0)
            let batch = database.makeWriteBatch()
            MetaStore.putNextArrival(1234, into: batch)
            try database.write(batch, sync: false)
            #expect(try MetaStore.nextArrival(in: database) == 1234)
            #expect(try MetaStore.producerSequences(in: database) == [:])
        }
    }

    @Test("spec versions are stored, listed in order, and one is current")
    func specVersions() throws {
        try withTemporaryDatabase { database in
            #expect(try MetaStore.currentSpecVersion(in: database) == nil)
            #expect(try MetaStore.specVersions(in: database) == [])
            let batch = database.makeWriteBatch()
            for version: UInt64 in [300, 2, 1] {
                MetaStore.putSpec(Array("spec \(version)".utf8), version: version, into: batch)
            }
            MetaStore.putCurrentSpecVersion(300, into: batch)
            MetaStore.putProducerSequence(5, for: "p", into: batch)
            try database.write(batch, sync: false)
            #expect(try MetaStore.specVersions(in: database) == [1, 2, 300])
            #expect(try MetaStore.currentSpecVersion(in: database) == 300)
            #expect(try MetaStore.spec(version: 2, in: database) == Array("spec 2".utf8))
            #expect(try MetaStore.spec(version: 3, in: database) == nil)
            #expect(try MetaStore.producerSequences(in: database) == ["p": 5])
        }
    }

    @Test("a malformed stored sequence throws .corruption")
    func malformedSequence() throws {
        try withTemporaryDatabase { database in
            let batch = database.makeWriteBatch()
            batch.put(Array("producer/bad".utf8), value: [1, 2], in: .meta)
            try database.write(batch, sync: false)
            let error = #expect(throws: StorageError.self) {
                try MetaStore.producerSequence(for: "bad", in: database)
            }
            #expect(error?.code == .corruption)
        }
    }
}
