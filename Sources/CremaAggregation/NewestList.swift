/// The newest `limit` stamped values, newest first, optionally each value once (at its
/// newest occurrence): the state of last_n and sequence.
struct NewestList<Value: Sendable & Hashable>: Sendable, Equatable {
    /// The entries, newest first by (event time, arrival).
    private(set) var entries: [Stamped<Value>] = []
    /// For `distinct` inserts: a byte of each entry's value hash, at the entry's index, so that
    /// finding an older occurrence compares bytes, and values only on a match (about one
    /// entry in 256 otherwise). Built when a distinct insert first needs it; in memory only.
    private var fingerprints: [UInt8] = []

    /// Creates an empty list.
    init() {}

    /// Prefetches the first entries of the list at `address` and its fingerprints. (Prefetching
    /// all 50 entries of a full list as well cost more than the misses it saved.)
    @inline(__always)
    static func prefetch(listAt address: UnsafeRawPointer) {
        Prefetch.collection(at: address + MemoryLayout<Self>.offset(of: \Self.entries)!, lines: 4)
        Prefetch.collection(at: address + MemoryLayout<Self>.offset(of: \Self.fingerprints)!, lines: 1)
    }

    /// Creates a list of entries already in order (newest first, within the limit).
    init(entries: [Stamped<Value>]) {
        self.entries = entries
    }

    /// Lists are equal when their entries are.
    static func == (lhs: NewestList, rhs: NewestList) -> Bool { lhs.entries == rhs.entries }

    /// Inserts an entry at its place, dropping an older occurrence of its value when
    /// `distinct` (or the entry itself when a newer occurrence is kept), then trims to `limit`.
    ///
    /// - Complexity: O(limit).
    mutating func insert(_ entry: Stamped<Value>, limit: Int, distinct: Bool) {
        var fingerprint: UInt8 = 0
        if distinct {
            fingerprint = Self.fingerprint(of: entry.value)
            if fingerprints.count != entries.count { fingerprints = entries.map { Self.fingerprint(of: $0.value) } }
            if let existing = index(of: entry.value, fingerprint: fingerprint) {
                if entries[existing].isNewer(than: entry) { return }
                entries.remove(at: existing)
                fingerprints.remove(at: existing)
            }
        } else if !fingerprints.isEmpty {
            fingerprints = []
        }
        let position = insertionIndex(of: entry)
        guard position < limit else { return }
        entries.insert(entry, at: position, growingFrom: 8)
        if distinct { fingerprints.insert(fingerprint, at: position, growingFrom: 8) }
        if entries.count > limit {
            entries.removeLast(entries.count - limit)
            if distinct { fingerprints.removeLast(fingerprints.count - limit) }
        }
    }

    /// Merges another list: the newest `limit` of both (each value once when `distinct`).
    ///
    /// - Complexity: O(limit), O(limit²) with `distinct`.
    mutating func merge(_ other: NewestList, limit: Int, distinct: Bool) {
        guard !other.entries.isEmpty else { return }
        var merged: [Stamped<Value>] = []
        merged.reserveCapacity(Swift.min(limit, entries.count + other.entries.count))
        var left = entries.startIndex
        var right = other.entries.startIndex
        while merged.count < limit && (left < entries.count || right < other.entries.count) {
            let takesLeft = right == other.entries.count
                || (left < entries.count && entries[left].isNewer(than: other.entries[right]))
            let next = takesLeft ? entries[left] : other.entries[right]
            if takesLeft { left += 1 } else { right += 1 }
            if distinct && merged.contains(where: { $0.value == next.value }) { continue }
            merged.append(next)
        }
        entries = merged
        fingerprints = []
    }

    /// The index of the entry holding `value`, whose fingerprint is `fingerprint`, if any.
    ///
    /// - Complexity: O(count).
    private func index(of value: Value, fingerprint: UInt8) -> Int? {
        fingerprints.withUnsafeBufferPointer { fingerprints in
            for index in fingerprints.indices where fingerprints[index] == fingerprint && entries[index].value == value {
                return index
            }
            return nil
        }
    }

    /// Where `entry` goes: after every entry newer than it (a binary search, the entries being
    /// newest first).
    ///
    /// - Complexity: O(log count).
    private func insertionIndex(of entry: Stamped<Value>) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].isNewer(than: entry) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func fingerprint(of value: Value) -> UInt8 { UInt8(truncatingIfNeeded: value.hashValue) }
}
