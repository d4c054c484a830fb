/// Value → count, exact up to `capacity` distinct values, then approximate by space-saving
/// (Metwally et al.): a value that arrives when the table is full replaces the value with
/// the smallest count and inherits that count plus one, so frequent values stay and their
/// counts overestimate by at most the replaced count. The state of top_k and histogram.
///
/// Up to `smallLimit` values are kept in one array sorted by value (found by binary search,
/// encoded and merged in order, no hashing); beyond, in a Dictionary.
struct FrequencyTable<Value: OrderedFieldScalar>: Sendable, Equatable {
    /// One counted value.
    struct Entry: Sendable, Equatable {
        /// The value.
        var value: Value
        /// Its count.
        var count: Int64
    }

    /// The most values kept in `small`.
    static var smallLimit: Int { 32 }

    /// While at most `smallLimit` values: the entries, ascending by value; empty once `large`.
    private(set) var small: [Entry] = []
    /// Beyond: value → count; empty while `small` holds the table.
    private(set) var large: [Value: Int64] = [:]

    /// Creates an empty table.
    init() {}

    /// The number of distinct values.
    var count: Int { large.isEmpty ? small.count : large.count }

    /// The lines of a small table's entries `prefetch(tableAt:)` brings in.
    private static var firstLines: Int { 4 }

    /// Prefetches the first lines of the table at `address`: a small table's entries.
    @inline(__always)
    static func prefetch(tableAt address: UnsafeRawPointer) {
        Prefetch.collection(at: address + MemoryLayout<Self>.offset(of: \Self.small)!, lines: firstLines)
    }

    /// Prefetches the rest of a small table's entries at `address`, once `prefetch(tableAt:)`
    /// has brought in their count: a lookup's binary search reads anywhere among them.
    @inline(__always)
    static func prefetchRest(ofTableAt address: UnsafeRawPointer) {
        Prefetch.lines(
            from: firstLines, ofArrayAt: address + MemoryLayout<Self>.offset(of: \Self.small)!, elementStride: MemoryLayout<Entry>.stride)
    }

    /// Counts one occurrence of `value`.
    ///
    /// - Complexity: O(log size) for a counted value while small, O(1) on average once large;
    ///   O(size) when a new value arrives (O(capacity) at a full table).
    mutating func add(_ value: Value, capacity: Int) {
        if large.isEmpty {
            let position = lowerBound(of: value)
            if position < small.count && small[position].value == value {
                small[position].count &+= 1
                return
            }
            if small.count < capacity {
                guard small.count == Self.smallLimit else {
                    small.insert(Entry(value: value, count: 1), at: position, growingFrom: 8)
                    return
                }
                moveToLarge()
            } else if let smallest = smallestEntry() {
                small.remove(at: lowerBound(of: smallest.value))
                small.insert(Entry(value: value, count: smallest.count &+ 1), at: lowerBound(of: value))
                return
            } else {
                return
            }
        }
        if let index = large.index(forKey: value) {
            large.values[index] &+= 1
        } else if large.count < capacity {
            large[value] = 1
        } else if let smallest = smallestEntry() {
            large[smallest.value] = nil
            large[value] = smallest.count &+ 1
        }
    }

    /// Moves the small entries into `large`.
    private mutating func moveToLarge() {
        large = Dictionary(uniqueKeysWithValues: small.lazy.map { ($0.value, $0.count) })
        small = []
    }

    /// The position of the first small entry whose value does not precede `value`.
    ///
    /// - Complexity: O(log size).
    private func lowerBound(of value: Value) -> Int {
        var low = 0
        var high = small.count
        while low < high {
            let middle = (low &+ high) >> 1
            if Value.precedes(small[middle].value, value) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The entry space-saving replaces: the smallest count, the largest value among ties.
    ///
    /// - Complexity: O(size).
    private func smallestEntry() -> Entry? {
        var smallest: Entry?
        func consider(_ value: Value, _ count: Int64) {
            guard let current = smallest else {
                smallest = Entry(value: value, count: count)
                return
            }
            if count < current.count || (count == current.count && Value.precedes(current.value, value)) {
                smallest = Entry(value: value, count: count)
            }
        }
        if large.isEmpty {
            for entry in small { consider(entry.value, entry.count) }
        } else {
            for (value, count) in large { consider(value, count) }
        }
        return smallest
    }

    /// Adds another table's counts (exact; `bound(capacity:)` trims a stored result).
    ///
    /// - Complexity: O(size of both) while both are small, else O(size of `other`).
    mutating func merge(_ other: FrequencyTable) {
        if count == 0 {
            self = other
            return
        }
        if large.isEmpty && other.large.isEmpty {
            let merged = Self.mergeSorted(small, other.small)
            small = merged
            if merged.count > Self.smallLimit { moveToLarge() }
            return
        }
        if large.isEmpty { moveToLarge() }
        if other.large.isEmpty {
            for entry in other.small { large[entry.value, default: 0] &+= entry.count }
        } else {
            for (value, count) in other.large { large[value, default: 0] &+= count }
        }
    }

    /// Two value-sorted entry lists merged into one, counts of equal values added.
    ///
    /// - Complexity: O(size of both).
    private static func mergeSorted(_ left: [Entry], _ right: [Entry]) -> [Entry] {
        var merged: [Entry] = []
        merged.reserveCapacity(left.count + right.count)
        var leftIndex = 0
        var rightIndex = 0
        while leftIndex < left.count && rightIndex < right.count {
            let leftEntry = left[leftIndex]
            let rightEntry = right[rightIndex]
            if leftEntry.value == rightEntry.value {
                merged.append(Entry(value: leftEntry.value, count: leftEntry.count &+ rightEntry.count))
                leftIndex += 1
                rightIndex += 1
            } else if Value.precedes(leftEntry.value, rightEntry.value) {
                merged.append(leftEntry)
                leftIndex += 1
            } else {
                merged.append(rightEntry)
                rightIndex += 1
            }
        }
        merged.append(contentsOf: left[leftIndex...])
        merged.append(contentsOf: right[rightIndex...])
        return merged
    }

    /// Keeps the `capacity` values with the largest counts.
    ///
    /// - Complexity: O(size · log size) when over capacity.
    mutating func bound(capacity: Int) {
        guard count > capacity else { return }
        self = FrequencyTable(entries: entriesByCount().prefix(capacity))
    }

    /// A table of distinct `entries` in any order.
    private init(entries: some Collection<(value: Value, count: Int64)>) {
        if entries.count <= Self.smallLimit {
            small = entries.map { Entry(value: $0.value, count: $0.count) }.sorted { Value.precedes($0.value, $1.value) }
        } else {
            large = Dictionary(uniqueKeysWithValues: entries.lazy.map { ($0.value, $0.count) })
        }
    }

    /// The entries by count descending, then value ascending.
    ///
    /// - Complexity: O(size · log size).
    func entriesByCount() -> [(value: Value, count: Int64)] {
        entries().sorted {
            $0.count != $1.count ? $0.count > $1.count : Value.precedes($0.value, $1.value)
        }
    }

    /// The entries by value ascending.
    ///
    /// - Complexity: O(size) while small, O(size · log size) once large.
    func entriesByValue() -> [(value: Value, count: Int64)] {
        large.isEmpty ? entries() : entries().sorted { Value.precedes($0.value, $1.value) }
    }

    /// The entries in storage order (by value while small).
    private func entries() -> [(value: Value, count: Int64)] {
        large.isEmpty ? small.map { (value: $0.value, count: $0.count) } : large.map { (value: $0.key, count: $0.value) }
    }

    /// Whether both count the same values equally, however each holds them.
    static func == (lhs: FrequencyTable, rhs: FrequencyTable) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs.entriesByValue(), rhs.entriesByValue()).allSatisfy { $0.value == $1.value && $0.count == $1.count }
    }

    /// A varint entry count, then value and varint count per entry, by value ascending
    /// (so equal tables encode to equal bytes).
    ///
    /// - Complexity: O(size) while small, O(size · log size) once large.
    func encode(into bytes: inout [UInt8]) {
        bytes.appendVarint(UInt64(count))
        func append(_ value: Value, _ count: Int64) {
            value.encode(into: &bytes)
            bytes.appendVarint(UInt64(bitPattern: count))
        }
        // A small table is in value order already; its entries need no copy.
        if large.isEmpty {
            for entry in small { append(entry.value, entry.count) }
        } else {
            for entry in entriesByValue() { append(entry.value, entry.count) }
        }
    }

    /// Reads what `encode(into:)` wrote (a value written twice keeps its last count).
    ///
    /// - Complexity: O(size).
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> FrequencyTable {
        let size = try reader.readCount(minimumBytesPerElement: 2)
        var entries: [Entry] = []
        entries.reserveCapacity(size)
        var isAscending = true
        for _ in 0..<size {
            let value = try Value.decode(from: &reader)
            if let last = entries.last, !Value.precedes(last.value, value) { isAscending = false }
            entries.append(Entry(value: value, count: Int64(bitPattern: try reader.readVarint())))
        }
        var table = FrequencyTable()
        if isAscending && size <= smallLimit {
            table.small = entries
        } else {
            table.large = Dictionary(entries.lazy.map { ($0.value, $0.count) }, uniquingKeysWith: { $1 })
            if table.large.count <= smallLimit { table = FrequencyTable(entries: table.large.map { (value: $0.key, count: $0.value) }) }
        }
        return table
    }
}
