/// The newest `limit` stamped values, newest first, optionally each value once (at its
/// newest occurrence): the state of last_n and sequence.
struct NewestList<Value: Sendable & Hashable>: Sendable, Equatable {
    /// The entries, newest first by (event time, arrival).
    private(set) var entries: [Stamped<Value>] = []

    /// Creates an empty list.
    init() {}

    /// Prefetches the first entries of the list at `address` (an insert scans from the newest).
    @inline(__always)
    static func prefetch(listAt address: UnsafeRawPointer) {
        Prefetch.collection(at: address + MemoryLayout<Self>.offset(of: \Self.entries)!, lines: 4)
    }

    /// Creates a list of entries already in order (newest first, within the limit).
    init(entries: [Stamped<Value>]) {
        self.entries = entries
    }

    /// Inserts an entry at its place, dropping an older occurrence of its value when
    /// `distinct` (or the entry itself when a newer occurrence is kept), then trims to `limit`.
    ///
    /// - Complexity: O(limit).
    mutating func insert(_ entry: Stamped<Value>, limit: Int, distinct: Bool) {
        if distinct, let existing = entries.firstIndex(where: { $0.value == entry.value }) {
            if entries[existing].isNewer(than: entry) { return }
            entries.remove(at: existing)
        }
        var position = entries.count
        while position > 0 && entry.isNewer(than: entries[position - 1]) { position -= 1 }
        guard position < limit else { return }
        entries.insert(entry, at: position, growingFrom: 8)
        if entries.count > limit { entries.removeLast(entries.count - limit) }
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
    }
}
