import CremaAggregation
import CremaStorage
import Testing

@testable import CremaEngine

/// Knuth's MMIX linear congruential generator, high bits: enough to vary test keys by seed.
private struct LinearCongruential {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state >> 16
    }
}

@Suite("RowIndex and KeyBatch")
struct RowIndexTests {
    /// Random entity keys: strings of 0–40 bytes and ints, one or two parts.
    private func randomKeys(_ count: Int, seed: UInt64) -> [[EntityKeyPart]] {
        var random = LinearCongruential(seed: seed)
        return (0..<count).map { _ in
            (0..<(random.next() % 4 == 0 ? 2 : 1)).map { _ in
                if random.next() % 3 == 0 { return .int(Int64(bitPattern: random.next()) >> Int64(random.next() % 60)) }
                return .string(String(repeating: "k", count: Int(random.next() % 5)) + String(random.next() % 5_000))
            }
        }
    }

    @Test("inserts, replacements and batched lookups agree with a Dictionary, across growth", arguments: [1, 2, 3] as [UInt64])
    func agreesWithDictionary(seed: UInt64) {
        let index = RowIndex()
        var model: [[UInt8]: Row] = [:]
        let keys = randomKeys(6_000, seed: seed)
        for (number, parts) in keys.enumerated() {
            let key = EntityKeyCodec.encode(parts)
            let row = Row(states: [], newestEventTime: Int64(number), nextArrival: 0)
            index[key] = row
            model[key] = row
        }
        #expect(index.count == model.count)
        for (key, row) in model {
            #expect(index[key] === row)
            #expect(index.rows[Int(row.slot)] === row)
        }
        let probes = randomKeys(3_000, seed: seed &+ 100) + keys.prefix(3_000)
        var batch = KeyBatch(reservingCapacity: probes.count, bytesPerKey: 8)
        for parts in probes { batch.append(parts) }
        let slots = UnsafeMutableBufferPointer<Int32>.allocate(capacity: probes.count)
        defer { slots.deallocate() }
        index.lookUp(batch, range: 0..<1_000, into: slots)
        index.lookUp(batch, range: 1_000..<probes.count, into: slots)
        for (position, parts) in probes.enumerated() {
            let expected = model[EntityKeyCodec.encode(parts)]
            #expect((slots[position] >= 0 ? index.rows[Int(slots[position])] : nil) === expected)
            #expect(batch.key(at: position) == EntityKeyCodec.encode(parts))
        }
    }

    @Test("random inserts and removals agree with a Dictionary; freed slots are reused; key bytes are compacted", arguments: [7, 8] as [UInt64])
    func removals(seed: UInt64) {
        let index = RowIndex()
        var model: [[UInt8]: Row] = [:]
        var random = LinearCongruential(seed: seed)
        let keys = randomKeys(3_000, seed: seed).map(EntityKeyCodec.encode)
        for step in 0..<40_000 {
            let key = keys[Int(random.next() % UInt64(keys.count))]
            if random.next() % 3 == 0 {
                index[key] = nil
                model[key] = nil
            } else if model[key] == nil {
                let row = Row(states: [], newestEventTime: Int64(step), nextArrival: 0)
                index[key] = row
                model[key] = row
            }
        }
        #expect(index.count == model.count)
        #expect(index.slotCount <= keys.count, "freed slots are reused")
        for key in keys {
            #expect(index[key] === model[key])
            if let row = model[key] { #expect(index.key(ofSlot: Int(row.slot)) == key) }
        }
        var batch = KeyBatch(reservingCapacity: keys.count, bytesPerKey: 8)
        for key in keys { batch.append(try! EntityKeyCodec.decode(key)) }
        let slots = UnsafeMutableBufferPointer<Int32>.allocate(capacity: keys.count)
        defer { slots.deallocate() }
        index.lookUp(batch, range: 0..<keys.count, into: slots)
        for (position, key) in keys.enumerated() {
            #expect((slots[position] >= 0 ? index.rows[Int(slots[position])] : nil) === model[key])
        }
    }

    @Test("slots(of:) finds held rows, makes each missing row once (in order, across growth) and agrees with a Dictionary", arguments: [4, 5] as [UInt64])
    func rowsOfKeys(seed: UInt64) {
        let index = RowIndex()
        var model: [[UInt8]: Row] = [:]
        let keys = randomKeys(2_000, seed: seed).map(EntityKeyCodec.encode)
        for key in keys.prefix(500) where model[key] == nil {
            let row = Row(states: [], newestEventTime: 1, nextArrival: 0)
            index[key] = row
            model[key] = row
        }
        var random = LinearCongruential(seed: seed)
        // Batches of 64 keys with repeats, as the writer takes them: some held, some new.
        for _ in 0..<100 {
            let batch = (0..<64).map { _ in keys[Int(random.next() % UInt64(keys.count))] }
            var keyBatch = KeyBatch(reservingCapacity: batch.count, bytesPerKey: 8)
            for key in batch { keyBatch.append(try! EntityKeyCodec.decode(key)) }
            var made = 0
            let makeRow = {
                made += 1
                return Row(states: [], newestEventTime: 2, nextArrival: 0)
            }
            // A range from the middle first, then the start: a range sees rows the other made.
            let later = index.slots(of: keyBatch, range: 8..<batch.count, makingMissing: makeRow)
            let first = index.slots(of: keyBatch, range: 0..<8, makingMissing: makeRow)
            #expect(first.count == 8 && later.count == batch.count - 8)
            let rows = index.withUnretainedRows { rows in (first + later).map { rows[Int($0)].takeUnretainedValue() } }
            #expect(made == Set(batch).subtracting(model.keys).count, "one new row per new key")
            for (key, row) in zip(batch, rows) {
                if let held = model[key] { #expect(row === held) } else { model[key] = row }
                #expect(index[key] === row)
            }
        }
        #expect(index.count == model.count)
    }

    @Test("keys that share a prefix or differ only in their last byte stay apart")
    func nearKeys() {
        let index = RowIndex()
        let keys: [[UInt8]] = [[], [0], [0, 0], [1], Array(repeating: 7, count: 8), Array(repeating: 7, count: 9), Array(repeating: 7, count: 16) + [1], Array(repeating: 7, count: 16) + [2]]
        for (number, key) in keys.enumerated() { index[key] = Row(states: [], newestEventTime: Int64(number), nextArrival: 0) }
        for (number, key) in keys.enumerated() { #expect(index[key]?.newestEventTime == Int64(number)) }
        #expect(index[[2]] == nil)
        #expect(Set(keys.map { $0.withUnsafeBytes(KeyHash.hash) }).count == keys.count)
    }
}

@Suite("EvictionClock")
struct EvictionClockTests {
    @Test("a used row gets a second chance; unsized and unevictable slots are skipped")
    func secondChance() {
        let clock = EvictionClock()
        for slot in 0..<4 { clock.setSize(100, slot: slot) }
        #expect(clock.totalBytes == 400)
        clock.markReferenced(slot: 0)
        #expect(clock.nextVictim(slotCount: 5) { _ in true } == 1, "slot 0 was used: the hand clears it and moves on")
        clock.forget(slot: 1)
        #expect(clock.totalBytes == 300)
        #expect(clock.nextVictim(slotCount: 5) { $0 != 2 } == 3, "slot 2 is not evictable, slot 4 has no size")
        #expect(clock.nextVictim(slotCount: 5) { _ in true } == 0, "slot 0's second chance is used up")
        #expect(clock.nextVictim(slotCount: 5) { _ in false } == nil)
    }
}

@Suite("ResultCache")
struct ResultCacheTests {
    private let hour: Int64 = 3_600_000

    @Test("a value holds while reads cover the same tiles, drops when the row changes or the read time moves on")
    func validity() {
        let window = Window(length: hour, name: "1h")
        let cache = ResultCache(freshness: [.tiles(window), .anyTime, .readTime])
        cache.reserve(slot: 2)
        let time: Int64 = 10 * hour + 1_000
        func read(_ feature: Int, at time: Int64) -> FeatureValue? {
            let slots: [Int32] = [2]
            let output = UnsafeMutableBufferPointer<FeatureValue>.allocate(capacity: 1)
            defer { output.deallocate() }
            var missed = false
            cache.withValues(at: time) { access in
                slots.withUnsafeBufferPointer { access.gather(feature: feature, slots: $0, into: output) { _ in missed = true } }
            }
            let value = output.baseAddress!.move()
            return missed ? nil : value
        }
        #expect(read(0, at: time) == nil)
        cache.withValues(at: time) { access in
            access.store(.int(5), slot: 2, feature: 0, expiresAt: .max)
            access.store(.int(9), slot: 2, feature: 1, expiresAt: .max)
            access.store(.float(1.5), slot: 2, feature: 2, expiresAt: .max)
        }
        #expect(read(0, at: time) == .int(5))
        #expect(read(1, at: time) == .int(9))
        #expect(read(2, at: time) == nil, "decayed values change with the read time and are never cached")
        let sameTiles = window.sameTiles(asAt: time)
        #expect(read(0, at: sameTiles.upperBound - 1) == .int(5))
        #expect(read(0, at: sameTiles.upperBound) == nil)
        #expect(read(1, at: sameTiles.upperBound) == nil, "one validity per row: every value is recomputed together")
        cache.invalidate(slot: 2)
        #expect(read(1, at: time) == nil)
    }
}
