/// mean: the arithmetic mean of a numeric field, a float. Empty: null.
struct MeanKernel: AggregationKernel {
    /// A count and a sum.
    struct State: Sendable, Equatable {
        /// The number of values.
        var count: Int64
        /// Their sum.
        var sum: Double
    }

    /// The field's index.
    let field: Int

    /// No values.
    var empty: State { State(count: 0, sum: 0) }

    /// The field's value as a double, nil when null.
    @inline(__always)
    func input(from fields: [FieldValue]) -> Double? { fields[field].numericValue }

    /// Counts and sums the value.
    @inline(__always)
    func add(_ input: Double, time: Int64, arrival: UInt64, to state: inout State) {
        state.count &+= 1
        state.sum += input
    }

    /// Adds counts and sums.
    @inline(__always)
    func merge(_ other: State, into state: inout State) {
        state.count &+= other.count
        state.sum += other.sum
    }

    /// sum / count, or null.
    func result(of state: State, at time: Int64) -> FeatureValue {
        state.count == 0 ? .null : .float(state.sum / Double(state.count))
    }

    /// A varint count and a double sum.
    func encode(_ state: State, into bytes: inout [UInt8]) {
        bytes.appendVarint(UInt64(bitPattern: state.count))
        bytes.appendDouble(state.sum)
    }

    /// Reads a varint count and a double sum.
    func decode(from reader: inout ByteReader) throws(AggregationError) -> State {
        State(count: Int64(bitPattern: try reader.readVarint()), sum: try reader.readDouble())
    }
}
