/// approx_quantile: one float per requested quantile, within 1% relative error (DDSketch);
/// handles negatives and zero. Empty: null.
struct ApproxQuantileKernel: AggregationKernel {
    /// The field's index.
    let field: Int
    /// The requested quantiles, each in [0, 1].
    let quantiles: [Double]

    /// No values.
    var empty: DDSketch { DDSketch() }

    /// The field's value as a double, nil when null.
    func input(from fields: [FieldValue]) -> Double? { fields[field].numericValue }

    /// Prefetches the buffers `add` reads.
    func prefetchContents(ofStateAt address: UnsafeRawPointer) { DDSketch.prefetch(sketchAt: address) }

    /// Prefetches the rest of the positive bins.
    func prefetchFurtherContents(ofStateAt address: UnsafeRawPointer) { DDSketch.prefetchRest(ofSketchAt: address) }

    /// Adds the value.
    ///
    /// - Complexity: O(1) within the current bin range.
    func add(_ input: Double, time: Int64, arrival: UInt64, to state: inout DDSketch) { state.add(input) }

    /// Adds the other sketch's bins.
    ///
    /// - Complexity: O(bins).
    func merge(_ other: DDSketch, into state: inout DDSketch) { state.merge(other) }

    /// The list of quantile values, or null when empty.
    ///
    /// - Complexity: O(quantiles × bins).
    func result(of state: DDSketch, at time: Int64) -> FeatureValue {
        guard !state.isEmpty else { return .null }
        return .list(quantiles.map { state.quantile($0).map(FeatureValue.float) ?? .null })
    }

    /// The sketch's encoding.
    ///
    /// - Complexity: O(bins).
    func encode(_ state: DDSketch, into bytes: inout [UInt8]) { state.encode(into: &bytes) }

    /// Reads the sketch.
    ///
    /// - Complexity: O(bins).
    func decode(from reader: inout ByteReader) throws(AggregationError) -> DDSketch {
        try DDSketch.decode(from: &reader)
    }
}
