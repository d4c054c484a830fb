import Testing
@testable import CremaAggregation

/// The packed sequence state against `NewestList`, the list of separate entries it replaced,
/// under the same inserts: in and out of order, ties of time broken by arrival, and events too
/// old to be kept.
@Suite struct SequenceEntriesTests {
    /// The stored form the sequence kernel wrote before its state was packed.
    private func storedForm(of list: NewestList<[FieldValue]>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendVarint(UInt64(list.entries.count))
        for entry in list.entries {
            entry.encodeStamp(into: &bytes)
            for value in entry.value { value.encode(into: &bytes) }
        }
        return bytes
    }

    @Test(arguments: [1, 2, 5, 20])
    func matchesTheListOfEntries(limit: Int) {
        var generator = SplitMix64(seed: UInt64(limit))
        for _ in 0..<50 {
            var entries = SequenceEntries()
            var model = NewestList<[FieldValue]>()
            var arrival: UInt64 = 0
            // Mostly newer events, some older ones and some at the same time.
            var newest: Int64 = 1_000
            for _ in 0..<Int.random(in: 0..<60, using: &generator) {
                let time: Int64 = switch Int.random(in: 0..<4, using: &generator) {
                case 0: newest - Int64.random(in: 0...50, using: &generator)
                case 1: newest
                default: newest + Int64.random(in: 1...10, using: &generator)
                }
                newest = max(newest, time)
                arrival += UInt64.random(in: 1...3, using: &generator)
                let values = Array(TestEvents.random(using: &generator).prefix(Int.random(in: 0...5, using: &generator)))
                entries.insert(time: time, arrival: arrival, limit: limit) { bytes in
                    for value in values { value.encode(into: &bytes) }
                }
                model.insert(Stamped(value: values, time: time, arrival: arrival), limit: limit, distinct: false)
                #expect(entries.newestFirst == model.entries)
                #expect(entries.count == model.entries.count)
            }
            var encoded: [UInt8] = []
            entries.encode(into: &encoded)
            #expect(encoded == storedForm(of: model), "the stored form is unchanged")
            #expect(SequenceEntries(newestFirst: model.entries) == entries, "packing the entries gives the same bytes")
        }
    }

    @Test func anEventOlderThanEveryKeptEntryIsNotKept() {
        var entries = SequenceEntries()
        for time in [Int64(10), 20, 30] {
            entries.insert(time: time, arrival: UInt64(time), limit: 3) { $0.append(0) }
        }
        let before = entries
        entries.insert(time: 5, arrival: 99, limit: 3) { $0.append(0) }
        #expect(entries == before)
        entries.insert(time: 15, arrival: 100, limit: 3) { $0.append(0) }
        #expect(entries.newestFirst.map(\.time) == [30, 20, 15])
    }
}
