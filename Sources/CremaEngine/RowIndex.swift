import CPrefetch

/// The rows of one group by entity key: an open-addressing table on a 64-bit hash of the key
/// bytes, laid out flat (entries, slots, key bytes in one buffer) so that a batch of lookups runs
/// in phases whose memory misses overlap instead of one pointer chase after another.
///
/// A row keeps its slot while it is in the index; a removed row's slot is reused by a later
/// insert. Removal shifts later entries of the probe run back (no tombstones); key bytes of
/// removed rows are reclaimed once they are half of the key buffer.
final class RowIndex {
    /// One table entry: the key's hash, its row's slot (`emptySlot` when unused) and where its
    /// bytes are in `keyBytes`, so that comparing keys costs one memory access, not two.
    private struct Entry {
        var hash: UInt64
        var slot: Int32
        var keyLength: UInt32
        var keyStart: Int
    }

    private static let emptySlot: Int32 = -1
    /// How many keys ahead a batched lookup prefetches the table entry of.
    private static let prefetchDistance = 8
    private static let emptyEntry = Entry(hash: 0, slot: emptySlot, keyLength: 0, keyStart: 0)
    /// Rows by slot; a free slot holds `vacant`.
    private(set) var rows: [Row] = []
    /// What free slots hold.
    private let vacant = Row(states: [], newestEventTime: Int64.min, nextArrival: 0)
    /// Slots of removed rows, reused first.
    private var freeSlots: [Int32] = []
    /// Where each slot's key is in `keyBytes`.
    private var keyPlaces: [(start: Int, length: Int)] = []
    /// The keys of the rows, one after another.
    private var keyBytes: [UInt8] = []
    /// Bytes of `keyBytes` that belong to removed rows.
    private var removedKeyBytes = 0
    /// The open-addressing table; its count is a power of two, at most half full.
    private var entries = [Entry](repeating: RowIndex.emptyEntry, count: 1_024)

    /// The number of rows.
    private(set) var count = 0
    /// One more than the highest slot ever used: every slot is below it.
    var slotCount: Int { rows.count }

    /// The row of `key`. Setting a row inserts it or replaces the one of the same key; setting
    /// nil removes it.
    ///
    /// - Complexity: O(key length) expected.
    subscript(key: [UInt8]) -> Row? {
        get {
            key.withUnsafeBytes { bytes in
                let slot = slot(of: bytes, hash: KeyHash.hash(bytes))
                return slot == RowIndex.emptySlot ? nil : rows[Int(slot)]
            }
        }
        set {
            guard let newValue else {
                key.withUnsafeBytes { remove($0, hash: KeyHash.hash($0)) }
                return
            }
            key.withUnsafeBytes { bytes in
                let hash = KeyHash.hash(bytes)
                let slot = slot(of: bytes, hash: hash)
                if slot == RowIndex.emptySlot {
                    insert(newValue, key: bytes, hash: hash)
                } else {
                    newValue.slot = slot
                    rows[Int(slot)] = newValue
                }
            }
        }
    }

    /// Whether a row of `key` is held, without touching the row.
    ///
    /// - Complexity: O(key length) expected.
    func contains(_ key: [UInt8]) -> Bool {
        key.withUnsafeBytes { contains($0) }
    }

    /// Whether a row of the key `bytes` is held, without touching the row.
    ///
    /// - Complexity: O(key length) expected.
    func contains(_ bytes: UnsafeRawBufferPointer) -> Bool {
        slot(of: bytes, hash: KeyHash.hash(bytes)) != RowIndex.emptySlot
    }

    /// The key of the row in `slot`.
    func key(ofSlot slot: Int) -> [UInt8] {
        withKey(ofSlot: slot) { Array($0) }
    }

    /// Writes the slot of every key of `batch` in `range`, or -1 for a key with no row, to
    /// `slots` at the key's position. In phases, so that the misses of different keys overlap:
    /// hash every key, then look them up in one tight loop that prefetches ahead.
    ///
    /// - Complexity: O(total key length) expected.
    func lookUp(_ batch: KeyBatch, range: Range<Int>, into slots: UnsafeMutableBufferPointer<Int32>) {
        let hashes = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: range.count)
        defer { hashes.deallocate() }
        entries.withUnsafeBufferPointer { entries in
            keyBytes.withUnsafeBytes { keyBytes in
                batch.withKeys { keyOf in
                    for position in range { hashes[position - range.lowerBound] = KeyHash.hash(keyOf(position)) }
                    let mask = entries.count - 1
                    for position in range {
                        let offset = position - range.lowerBound
                        if offset + Self.prefetchDistance < range.count {
                            crema_prefetch(entries.baseAddress! + (Int(truncatingIfNeeded: hashes[offset + Self.prefetchDistance]) & mask))
                        }
                        slots[position] = Self.slot(of: keyOf(position), hash: hashes[offset], in: entries, keyBytes: keyBytes)
                    }
                }
            }
        }
    }

    /// The slot of the row of each key of `batch` in `range`, in order, inserting `makeRow()`
    /// for a key that has none (a later occurrence of the same key then gets that row). In
    /// phases, so that the misses of different keys overlap: hash the keys and prefetch their
    /// table entries, prefetch the key bytes and row references those entries point to, then
    /// look up (prefetching each row object).
    ///
    /// - Complexity: O(total key length) expected.
    func slots(of batch: KeyBatch, range: Range<Int>, makingMissing makeRow: () -> Row) -> [Int32] {
        batch.withKeys { keyAt in
            let hashes = range.map { KeyHash.hash(keyAt($0)) }
            entries.withUnsafeBufferPointer { entries in
                let mask = entries.count - 1
                for hash in hashes { crema_prefetch(entries.baseAddress! + (Int(truncatingIfNeeded: hash) & mask)) }
                rows.withUnsafeBufferPointer { rows in
                    keyBytes.withUnsafeBytes { keyBytes in
                        for hash in hashes {
                            let entry = entries[Int(truncatingIfNeeded: hash) & mask]
                            guard entry.slot != Self.emptySlot else { continue }
                            crema_prefetch(keyBytes.baseAddress! + entry.keyStart)
                            crema_prefetch(rows.baseAddress! + Int(entry.slot))
                        }
                    }
                }
            }
            // Runs of keys that have rows are looked up with the buffers borrowed once per run
            // (borrowing retains and releases them, atomic operations that also wait for the
            // loads in flight); a missing key ends the run, since inserting it may move them.
            return [Int32](unsafeUninitializedCapacity: hashes.count) { slots, initializedCount in
                var position = 0
                while position < hashes.count {
                    position = entries.withUnsafeBufferPointer { entries in
                        keyBytes.withUnsafeBytes { keyBytes in
                            rows.withUnsafeBufferPointer { rows in
                                var position = position
                                while position < hashes.count {
                                    let rowSlot = Self.slot(
                                        of: keyAt(range.lowerBound + position), hash: hashes[position], in: entries, keyBytes: keyBytes)
                                    guard rowSlot != Self.emptySlot else { break }
                                    slots[position] = rowSlot
                                    crema_prefetch(UnsafeRawPointer(rows.baseAddress! + Int(rowSlot)).load(as: UnsafeRawPointer.self))
                                    position += 1
                                }
                                return position
                            }
                        }
                    }
                    guard position < hashes.count else { break }
                    let row = makeRow()
                    insert(row, key: keyAt(range.lowerBound + position), hash: hashes[position])
                    slots[position] = row.slot
                    position += 1
                }
                initializedCount = hashes.count
            }
        }
    }

    /// Calls `body` with the rows by slot, unretained (a free slot holds a placeholder row):
    /// reading them costs no atomic reference counting. They stay valid while no row is
    /// inserted or removed.
    func withUnretainedRows<Result>(_ body: (UnsafeBufferPointer<Unmanaged<Row>>) -> Result) -> Result {
        rows.withUnretainedElements(body)
    }

    /// Calls `body` with the key bytes of the row in `slot`.
    func withKey<Result>(ofSlot slot: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        let place = keyPlaces[slot]
        return keyBytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[place.start..<(place.start + place.length)])) }
    }

    /// The slot of `key` or `emptySlot`.
    private func slot(of key: UnsafeRawBufferPointer, hash: UInt64) -> Int32 {
        entries.withUnsafeBufferPointer { entries in
            keyBytes.withUnsafeBytes { keyBytes in
                Self.slot(of: key, hash: hash, in: entries, keyBytes: keyBytes)
            }
        }
    }

    /// The slot of `key` in `entries` (whose keys are in `keyBytes`), or `emptySlot`.
    @inline(__always)
    private static func slot(
        of key: UnsafeRawBufferPointer, hash: UInt64, in entries: UnsafeBufferPointer<Entry>, keyBytes: UnsafeRawBufferPointer
    ) -> Int32 {
        let mask = entries.count - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = entries[index]
            if entry.slot == emptySlot { return emptySlot }
            if entry.hash == hash, Int(entry.keyLength) == key.count,
               bytesEqual(UnsafeRawBufferPointer(rebasing: keyBytes[entry.keyStart..<(entry.keyStart + key.count)]), key) {
                return entry.slot
            }
            index = (index + 1) & mask
        }
    }

    /// Adds a row under a key that has none, in a free slot if there is one.
    private func insert(_ row: Row, key: UnsafeRawBufferPointer, hash: UInt64) {
        precondition(rows.count < Int32.max || !freeSlots.isEmpty, "a group holds at most \(Int32.max) rows in memory")
        if (count + 1) * 2 > entries.count { grow() }
        let slot: Int32
        let keyStart = keyBytes.count
        if let free = freeSlots.popLast() {
            slot = free
            rows[Int(slot)] = row
            keyPlaces[Int(slot)] = (keyStart, key.count)
        } else {
            slot = Int32(rows.count)
            rows.append(row)
            keyPlaces.append((keyStart, key.count))
        }
        row.slot = slot
        count += 1
        keyBytes.append(contentsOf: key)
        place(Entry(hash: hash, slot: slot, keyLength: UInt32(key.count), keyStart: keyStart), in: &entries)
    }

    /// Removes the row of `key`, if any: frees its slot and closes the gap in its probe run by
    /// moving later entries back (an entry moves when the gap lies between its home and it).
    private func remove(_ key: UnsafeRawBufferPointer, hash: UInt64) {
        let mask = entries.count - 1
        var gap = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = entries[gap]
            if entry.slot == RowIndex.emptySlot { return }
            if entry.hash == hash, Int(entry.keyLength) == key.count,
               keyBytes.withUnsafeBytes({ bytesEqual(UnsafeRawBufferPointer(rebasing: $0[entry.keyStart..<(entry.keyStart + key.count)]), key) }) {
                break
            }
            gap = (gap + 1) & mask
        }
        let removed = entries[gap]
        rows[Int(removed.slot)].slot = -1
        rows[Int(removed.slot)] = vacant
        freeSlots.append(removed.slot)
        count -= 1
        removedKeyBytes += Int(removed.keyLength)
        var next = (gap + 1) & mask
        while entries[next].slot != RowIndex.emptySlot {
            let home = Int(truncatingIfNeeded: entries[next].hash) & mask
            // The entry may fill the gap unless its home lies cyclically in (gap, next].
            let homeIsAfterGap = gap <= next ? (gap < home && home <= next) : (gap < home || home <= next)
            if !homeIsAfterGap {
                entries[gap] = entries[next]
                gap = next
            }
            next = (next + 1) & mask
        }
        entries[gap] = RowIndex.emptyEntry
        if removedKeyBytes > 65_536, removedKeyBytes * 2 > keyBytes.count { compactKeys() }
    }

    /// Copies the keys of the rows still in the index into a new buffer.
    private func compactKeys() {
        var compacted: [UInt8] = []
        compacted.reserveCapacity(keyBytes.count - removedKeyBytes)
        for index in entries.indices where entries[index].slot != RowIndex.emptySlot {
            let start = entries[index].keyStart
            entries[index].keyStart = compacted.count
            keyPlaces[Int(entries[index].slot)].start = compacted.count
            compacted.append(contentsOf: keyBytes[start..<(start + Int(entries[index].keyLength))])
        }
        keyBytes = compacted
        removedKeyBytes = 0
    }

    /// Doubles the table and places every entry again.
    private func grow() {
        var larger = [Entry](repeating: RowIndex.emptyEntry, count: entries.count * 2)
        for entry in entries where entry.slot != RowIndex.emptySlot {
            place(entry, in: &larger)
        }
        entries = larger
    }

    /// Puts `entry` in the first free place of its probe sequence.
    private func place(_ entry: Entry, in table: inout [Entry]) {
        let mask = table.count - 1
        var index = Int(truncatingIfNeeded: entry.hash) & mask
        while table[index].slot != RowIndex.emptySlot {
            index = (index + 1) & mask
        }
        table[index] = entry
    }
}

/// Whether two buffers of the same length hold the same bytes, eight at a time (entity keys are
/// short: a call to `memcmp` costs more than the comparison).
@inline(__always)
private func bytesEqual(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset + 8 <= first.count {
        guard first.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == second.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        else { return false }
        offset += 8
    }
    while offset < first.count {
        guard first[offset] == second[offset] else { return false }
        offset += 1
    }
    return true
}

/// A 64-bit hash of entity key bytes, eight bytes at a time (keys are short: a tag and a few
/// bytes per part), with a final avalanche so that the low bits index a table well.
enum KeyHash {
    /// The hash of `bytes`.
    ///
    /// - Complexity: O(n).
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var offset = 0
        while offset + 8 <= bytes.count {
            state = mix(state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        if offset < bytes.count {
            var tail: UInt64 = 0
            withUnsafeMutableBytes(of: &tail) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
            state = mix(state ^ UInt64(littleEndian: tail))
        }
        return finalize(state)
    }

    private static func mix(_ value: UInt64) -> UInt64 {
        (value &* 0xBF58_476D_1CE4_E5B9).rotatedLeft(by: 31) &* 0x94D0_49BB_1331_11EB
    }

    /// MurmurHash3's 64-bit finalizer.
    private static func finalize(_ value: UInt64) -> UInt64 {
        var value = value
        value ^= value >> 33
        value &*= 0xFF51_AFD7_ED55_8CCD
        value ^= value >> 33
        value &*= 0xC4CE_B9FE_1A85_EC53
        value ^= value >> 33
        return value
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by count: Int) -> UInt64 {
        (self << UInt64(count)) | (self >> UInt64(64 - count))
    }
}
