/// first and last: the value of the earliest or latest event by (event time, arrival),
/// in the field's type (a vector field gives a `.vector`). Empty: null.
struct FirstLastKernel<Value: FieldScalar>: AggregationKernel {
    /// The field's index.
    let field: Int
    /// True for last, false for first.
    let keepsLatest: Bool

    /// No value yet.
    var empty: Stamped<Value>? { nil }

    /// The field's value, nil when null.
    @inline(__always)
    func input(from fields: [FieldValue]) -> Value? { Value.extract(fields[field]) }

    /// Keeps the value when its event is beyond the current one.
    @inline(__always)
    func add(_ input: Value, time: Int64, arrival: UInt64, to state: inout Stamped<Value>?) {
        keep(Stamped(value: input, time: time, arrival: arrival), in: &state)
    }

    /// Keeps the endpoint of both.
    @inline(__always)
    func merge(_ other: Stamped<Value>?, into state: inout Stamped<Value>?) {
        if let other { keep(other, in: &state) }
    }

    /// The value, or null.
    func result(of state: Stamped<Value>?, at time: Int64) -> FeatureValue { state?.value.featureValue ?? .null }

    /// A presence byte, then time, arrival and value.
    func encode(_ state: Stamped<Value>?, into bytes: inout [UInt8]) {
        guard let state else { return bytes.append(0) }
        bytes.append(1)
        state.encodeStamp(into: &bytes)
        state.value.encode(into: &bytes)
    }

    /// Reads what `encode` wrote.
    func decode(from reader: inout ByteReader) throws(AggregationError) -> Stamped<Value>? {
        guard try reader.readByte() != 0 else { return nil }
        let time = try reader.readZigzag()
        let arrival = try reader.readVarint()
        return Stamped(value: try Value.decode(from: &reader), time: time, arrival: arrival)
    }

    /// Replaces `state` with `candidate` when `candidate`'s event is beyond it.
    @inline(__always)
    private func keep(_ candidate: Stamped<Value>, in state: inout Stamped<Value>?) {
        guard let current = state else {
            state = candidate
            return
        }
        if candidate.isNewer(than: current) == keepsLatest { state = candidate }
    }
}
