/// top_k: the `k` most frequent values as `{"value": v, "count": c}` objects, by count
/// descending then value ascending (numbers numerically, strings by UTF-8 bytes). Empty: [].
///
/// Each tile counts exactly up to `capacity` distinct values, then approximately with
/// space-saving (see `FrequencyTable`): counts of frequent values may then be overestimated.
struct TopKKernel<Value: OrderedFieldScalar>: AggregationKernel {
    /// The field's index.
    let field: Int
    /// How many values a read returns.
    let k: Int
    /// Distinct values counted exactly per tile.
    let capacity: Int

    /// No values.
    var empty: FrequencyTable<Value> { FrequencyTable() }

    /// The field's value, nil when null.
    func input(from fields: [FieldValue]) -> Value? { Value.extract(fields[field]) }

    /// Prefetches the buffers `add` reads.
    func prefetchContents(ofStateAt address: UnsafeRawPointer) { FrequencyTable<Value>.prefetch(tableAt: address) }

    /// Prefetches the rest of a small table's entries.
    func prefetchFurtherContents(ofStateAt address: UnsafeRawPointer) { FrequencyTable<Value>.prefetchRest(ofTableAt: address) }

    /// Counts the value.
    ///
    /// - Complexity: O(1) on average; O(capacity) when the tile is full.
    func add(_ input: Value, time: Int64, arrival: UInt64, to state: inout FrequencyTable<Value>) {
        state.add(input, capacity: capacity)
    }

    /// Adds the counts.
    ///
    /// - Complexity: O(size of `other`).
    func merge(_ other: FrequencyTable<Value>, into state: inout FrequencyTable<Value>) { state.merge(other) }

    /// The top `k` entries.
    ///
    /// - Complexity: O(size · log size).
    func result(of state: FrequencyTable<Value>, at time: Int64) -> FeatureValue {
        .list(state.entriesByCount().prefix(k).map { entry in
            .object([FeatureValue.Member("value", entry.value.featureValue), FeatureValue.Member("count", .int(entry.count))])
        })
    }

    /// The table's encoding.
    ///
    /// - Complexity: O(size · log size).
    func encode(_ state: FrequencyTable<Value>, into bytes: inout [UInt8]) { state.encode(into: &bytes) }

    /// Reads the table.
    ///
    /// - Complexity: O(size).
    func decode(from reader: inout ByteReader) throws(AggregationError) -> FrequencyTable<Value> {
        try FrequencyTable.decode(from: &reader)
    }

    /// Keeps at most `capacity` values in a stored tile.
    ///
    /// - Complexity: O(size · log size).
    func bound(_ state: inout FrequencyTable<Value>) { state.bound(capacity: capacity) }
}
