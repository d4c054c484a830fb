/// count: the number of events, or of the non-null values of a field. Empty: 0.
struct CountKernel: AggregationKernel {
    /// The counted field's index, or nil to count every event.
    let field: Int?

    /// Zero events.
    var empty: Int64 { 0 }

    /// Nothing for an event, nil when the counted field is null.
    @inline(__always)
    func input(from fields: [FieldValue]) -> Void? {
        guard let field else { return () }
        return fields[field].isNull ? nil : ()
    }

    /// One more.
    @inline(__always)
    func add(_ input: Void, time: Int64, arrival: UInt64, to state: inout Int64) { state &+= 1 }

    /// The sum of both counts.
    @inline(__always)
    func merge(_ other: Int64, into state: inout Int64) { state &+= other }

    /// The count as an int.
    func result(of state: Int64, at time: Int64) -> FeatureValue { .int(state) }

    /// A varint.
    func encode(_ state: Int64, into bytes: inout [UInt8]) { bytes.appendVarint(UInt64(bitPattern: state)) }

    /// Reads a varint.
    func decode(from reader: inout ByteReader) throws(AggregationError) -> Int64 {
        Int64(bitPattern: try reader.readVarint())
    }
}
