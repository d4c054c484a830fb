/// sum: the sum of a numeric field, an int for int fields (wrapping) and a float otherwise. Empty: 0.
struct SumKernel<Value: SummableScalar>: AggregationKernel {
    /// The summed field's index.
    let field: Int

    /// Zero.
    var empty: Value { .zero }

    /// The field's value, nil when null.
    @inline(__always)
    func input(from fields: [FieldValue]) -> Value? { Value.extract(fields[field]) }

    /// Adds the value.
    @inline(__always)
    func add(_ input: Value, time: Int64, arrival: UInt64, to state: inout Value) {
        Value.accumulate(input, into: &state)
    }

    /// Adds both sums.
    @inline(__always)
    func merge(_ other: Value, into state: inout Value) { Value.accumulate(other, into: &state) }

    /// The sum in the field's type.
    func result(of state: Value, at time: Int64) -> FeatureValue { state.featureValue }

    /// The value's encoding.
    func encode(_ state: Value, into bytes: inout [UInt8]) { state.encode(into: &bytes) }

    /// Reads the value.
    func decode(from reader: inout ByteReader) throws(AggregationError) -> Value { try Value.decode(from: &reader) }
}
