/// Value → count, exact up to `capacity` distinct values, then approximate by space-saving
/// (Metwally et al.): a value that arrives when the table is full replaces the value with
/// the smallest count and inherits that count plus one, so frequent values stay and their
/// counts overestimate by at most the replaced count. The state of top_k and histogram.
struct FrequencyTable<Value: OrderedFieldScalar>: Sendable, Equatable {
    /// The counted values.
    private(set) var counts: [Value: Int64] = [:]

    /// Creates an empty table.
    init() {}

    /// Prefetches the first lines of the table at `address`: a small table's buckets, keys and counts.
    @inline(__always)
    static func prefetch(tableAt address: UnsafeRawPointer) {
        Prefetch.collection(at: address + MemoryLayout<Self>.offset(of: \Self.counts)!, lines: 4)
    }

    /// Counts one occurrence of `value`.
    ///
    /// - Complexity: O(1) on average; O(capacity) when a new value arrives at a full table.
    mutating func add(_ value: Value, capacity: Int) {
        if let index = counts.index(forKey: value) {
            counts.values[index] &+= 1
        } else if counts.count < capacity {
            counts[value] = 1
        } else if let smallest = smallestEntry() {
            counts[smallest.value] = nil
            counts[value] = smallest.count &+ 1
        }
    }

    /// The entry space-saving replaces: the smallest count, the largest value among ties.
    ///
    /// - Complexity: O(size).
    private func smallestEntry() -> (value: Value, count: Int64)? {
        var smallest: (value: Value, count: Int64)?
        for (value, count) in counts {
            guard let current = smallest else {
                smallest = (value, count)
                continue
            }
            if count < current.count || (count == current.count && Value.precedes(current.value, value)) {
                smallest = (value, count)
            }
        }
        return smallest
    }

    /// Adds another table's counts (exact; `bound(capacity:)` trims a stored result).
    ///
    /// - Complexity: O(size of `other`).
    mutating func merge(_ other: FrequencyTable) {
        if counts.isEmpty {
            counts = other.counts
            return
        }
        for (value, count) in other.counts { counts[value, default: 0] &+= count }
    }

    /// Keeps the `capacity` values with the largest counts.
    ///
    /// - Complexity: O(size · log size) when over capacity.
    mutating func bound(capacity: Int) {
        guard counts.count > capacity else { return }
        counts = Dictionary(uniqueKeysWithValues: entriesByCount().prefix(capacity).map { ($0.value, $0.count) })
    }

    /// The entries by count descending, then value ascending.
    ///
    /// - Complexity: O(size · log size).
    func entriesByCount() -> [(value: Value, count: Int64)] {
        counts.map { (value: $0.key, count: $0.value) }.sorted {
            $0.count != $1.count ? $0.count > $1.count : Value.precedes($0.value, $1.value)
        }
    }

    /// The entries by value ascending.
    ///
    /// - Complexity: O(size · log size).
    func entriesByValue() -> [(value: Value, count: Int64)] {
        counts.map { (value: $0.key, count: $0.value) }.sorted { Value.precedes($0.value, $1.value) }
    }

    /// A varint entry count, then value and varint count per entry, by value ascending
    /// (so equal tables encode to equal bytes).
    ///
    /// - Complexity: O(size · log size).
    func encode(into bytes: inout [UInt8]) {
        bytes.appendVarint(UInt64(counts.count))
        for entry in entriesByValue() {
            entry.value.encode(into: &bytes)
            bytes.appendVarint(UInt64(bitPattern: entry.count))
        }
    }

    /// Reads what `encode(into:)` wrote.
    ///
    /// - Complexity: O(size).
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> FrequencyTable {
        let size = try reader.readCount(minimumBytesPerElement: 2)
        var table = FrequencyTable()
        table.counts.reserveCapacity(size)
        for _ in 0..<size {
            let value = try Value.decode(from: &reader)
            table.counts[value] = Int64(bitPattern: try reader.readVarint())
        }
        return table
    }
}
