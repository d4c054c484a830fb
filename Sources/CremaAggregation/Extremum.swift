/// min and max: the smallest or largest value of an ordered field, in the field's type.
/// Strings order by UTF-8 bytes, false before true. Empty: null.
struct ExtremumKernel<Value: OrderedFieldScalar>: AggregationKernel {
    /// The field's index.
    let field: Int
    /// True for max, false for min.
    let keepsLargest: Bool

    /// No value yet.
    var empty: Value? { nil }

    /// The field's value, nil when null.
    @inline(__always)
    func input(from fields: [FieldValue]) -> Value? { Value.extract(fields[field]) }

    /// Keeps the value when it is beyond the current one.
    @inline(__always)
    func add(_ input: Value, time: Int64, arrival: UInt64, to state: inout Value?) {
        keep(input, in: &state)
    }

    /// Keeps the extremum of both.
    @inline(__always)
    func merge(_ other: Value?, into state: inout Value?) {
        if let other { keep(other, in: &state) }
    }

    /// The value, or null.
    func result(of state: Value?, at time: Int64) -> FeatureValue { state?.featureValue ?? .null }

    /// A presence byte, then the value.
    func encode(_ state: Value?, into bytes: inout [UInt8]) {
        guard let state else { return bytes.append(0) }
        bytes.append(1)
        state.encode(into: &bytes)
    }

    /// Reads a presence byte and the value.
    func decode(from reader: inout ByteReader) throws(AggregationError) -> Value? {
        try reader.readByte() == 0 ? nil : try Value.decode(from: &reader)
    }

    /// Replaces `state` with `candidate` when `candidate` is beyond it.
    @inline(__always)
    private func keep(_ candidate: Value, in state: inout Value?) {
        guard let current = state else {
            state = candidate
            return
        }
        if keepsLargest ? Value.precedes(current, candidate) : Value.precedes(candidate, current) {
            state = candidate
        }
    }
}
