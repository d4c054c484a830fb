/// approx_distinct: the number of distinct values of a field by HyperLogLog (≤ 2% error
/// past 1,000 distinct values), an int. Empty: 0.
struct ApproxDistinctKernel<Value: OrderedFieldScalar>: AggregationKernel {
    /// The field's index.
    let field: Int

    /// No values.
    var empty: HyperLogLog { HyperLogLog() }

    /// The stable hash of the field's value, nil when null.
    func input(from fields: [FieldValue]) -> UInt64? { Value.extract(fields[field])?.stableHash }

    /// Prefetches the buffers `add` reads.
    func prefetchContents(ofStateAt address: UnsafeRawPointer) { HyperLogLog.prefetch(sketchAt: address) }

    /// Adds the hash.
    ///
    /// - Complexity: O(1) dense, O(sparse size) sparse.
    func add(_ input: UInt64, time: Int64, arrival: UInt64, to state: inout HyperLogLog) {
        state.insert(hash: input)
    }

    /// The register-wise maximum.
    ///
    /// - Complexity: O(registers).
    func merge(_ other: HyperLogLog, into state: inout HyperLogLog) { state.merge(other) }

    /// The estimate as an int.
    ///
    /// - Complexity: O(registers).
    func result(of state: HyperLogLog, at time: Int64) -> FeatureValue { .int(state.estimate()) }

    /// The sketch's encoding.
    ///
    /// - Complexity: O(registers).
    func encode(_ state: HyperLogLog, into bytes: inout [UInt8]) { state.encode(into: &bytes) }

    /// Reads the sketch.
    ///
    /// - Complexity: O(registers).
    func decode(from reader: inout ByteReader) throws(AggregationError) -> HyperLogLog {
        try HyperLogLog.decode(from: &reader)
    }
}
