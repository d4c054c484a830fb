import CremaStorage
import Testing

@Suite("RowCodec and RowView")
struct RowCodecTests {
    private func randomSections(_ random: inout SplitMix64, count: Int) -> [(aggregateID: UInt64, bytes: [UInt8])] {
        var ids = Set<UInt64>()
        while ids.count < count { ids.insert(random.next() >> (random.next() % 64)) }
        return ids.map { (aggregateID: $0, bytes: random.bytes(count: Int(random.next() % 40))) }
    }

    @Test("random rows round-trip; sections are found by id and iterate in id order")
    func roundTrip() throws {
        var random = SplitMix64(seed: 21)
        for count in [0, 1, 2, 7, 64] {
            let sections = randomSections(&random, count: count)
            let time = Int64.random(in: .min ... .max, using: &random)
            let arrival = random.next()
            let row = RowCodec.encode(sections: sections, newestEventTime: time, nextArrival: arrival)
            #expect(row.first == RowCodec.formatVersion)
            try row.withUnsafeBytes { bytes in
                let view = try RowView(bytes: bytes)
                #expect(view.newestEventTime == time)
                #expect(view.nextArrival == arrival)
                #expect(view.sectionCount == count)
                for section in sections {
                    #expect(view.section(for: section.aggregateID).map(Array.init) == section.bytes)
                }
                #expect(view.section(for: 0xDEAD_BEEF_0000_0001) == nil || sections.contains { $0.aggregateID == 0xDEAD_BEEF_0000_0001 })
                let sorted = sections.sorted { $0.aggregateID < $1.aggregateID }
                #expect(view.map(\.aggregateID) == sorted.map(\.aggregateID))
                #expect(view.map { Array($0.bytes) } == sorted.map(\.bytes))
            }
        }
    }

    @Test("lookups of absent ids between, before and after present ones return nil")
    func absentSections() throws {
        let row = RowCodec.encode(sections: [(10, [1]), (30, []), (20, [2, 2])], newestEventTime: 5)
        try row.withUnsafeBytes { bytes in
            let view = try RowView(bytes: bytes)
            for absent: UInt64 in [0, 9, 11, 25, 31, .max] {
                #expect(view.section(for: absent) == nil)
            }
            #expect(view.section(for: 20).map(Array.init) == [2, 2])
            #expect(view.section(for: 30)?.count == 0)
        }
    }

    /// A hand-built row of format version 1 (or another version byte): header, then (id, end)
    /// entries, then payload.
    private func row(version: UInt8 = 1, entries: [(UInt64, UInt32)], payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [version] + [UInt8](repeating: 0, count: 8)
        bytes += withUnsafeBytes(of: UInt32(entries.count).littleEndian, Array.init)
        for (id, end) in entries {
            bytes += withUnsafeBytes(of: id.littleEndian, Array.init)
            bytes += withUnsafeBytes(of: end.littleEndian, Array.init)
        }
        return bytes + payload
    }

    @Test("malformed rows throw .corruption")
    func malformedRowsThrow() {
        let valid = row(entries: [(1, 2), (2, 3)], payload: [7, 7, 7])
        let cases: [[UInt8]] = [
            [],
            [1, 0, 0],
            row(version: 3, entries: [], payload: []),
            row(version: 2, entries: [], payload: []),             // version 2 without its next arrival
            Array(valid.dropLast()),                            // payload shorter than the table says
            valid + [0],                                        // trailing bytes
            row(entries: [(2, 1), (1, 3)], payload: [7, 7, 7]), // ids out of order
            row(entries: [(1, 1), (1, 3)], payload: [7, 7, 7]), // repeated id
            row(entries: [(1, 3), (2, 2)], payload: [7, 7, 7]), // ends decreasing
            Array(row(entries: [(1, 0)], payload: []).prefix(14)),  // truncated table
            [1] + [UInt8](repeating: 0, count: 8) + [0xFF, 0xFF, 0xFF, 0xFF],  // huge section count
        ]
        for bytes in cases {
            let error = #expect(throws: StorageError.self) {
                try bytes.withUnsafeBytes { _ = try RowView(bytes: $0) }
            }
            #expect(error?.code == .corruption)
        }
        #expect(throws: Never.self) { try valid.withUnsafeBytes { _ = try RowView(bytes: $0) } }
    }

    @Test("rows of format version 1 still read, with next arrival 0")
    func versionOneRowsRead() throws {
        let bytes = row(entries: [(1, 2), (2, 3)], payload: [7, 8, 9])
        try bytes.withUnsafeBytes { buffer in
            let view = try RowView(bytes: buffer)
            #expect(view.nextArrival == 0)
            #expect(view.section(for: 1).map(Array.init) == [7, 8])
            #expect(view.section(for: 2).map(Array.init) == [9])
        }
    }

    @Test("damaged rows never crash, and a view that validates reads in bounds")
    func damagedRowsNeverCrash() {
        var random = SplitMix64(seed: 22)
        for _ in 0..<1000 {
            var bytes = RowCodec.encode(sections: randomSections(&random, count: 5), newestEventTime: 1)
            for _ in 0..<2 {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1))))
            bytes.withUnsafeBytes { buffer in
                guard let view = try? RowView(bytes: buffer) else { return }
                let total = view.reduce(0) { $0 + $1.bytes.count }
                #expect(total <= buffer.count)
                for section in view {
                    #expect(view.section(for: section.aggregateID)?.count == section.bytes.count)
                }
            }
        }
    }
}
