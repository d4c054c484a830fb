/// last_n: the newest `n` values of a field, newest first, in the field's type; with
/// `distinct`, each value once at its newest occurrence. Empty: [].
struct LastNKernel<Value: FieldScalar>: AggregationKernel {
    /// The field's index.
    let field: Int
    /// How many values to keep.
    let limit: Int
    /// Whether each value is kept once.
    let distinct: Bool

    /// No values.
    var empty: NewestList<Value> { NewestList() }

    /// The field's value, nil when null.
    func input(from fields: [FieldValue]) -> Value? { Value.extract(fields[field]) }

    /// Prefetches the buffers `add` reads.
    func prefetchContents(ofStateAt address: UnsafeRawPointer) { NewestList<Value>.prefetch(listAt: address) }

    /// Inserts the value at its place.
    ///
    /// - Complexity: O(n).
    func add(_ input: Value, time: Int64, arrival: UInt64, to state: inout NewestList<Value>) {
        state.insert(Stamped(value: input, time: time, arrival: arrival), limit: limit, distinct: distinct)
    }

    /// The newest `n` of both.
    ///
    /// - Complexity: O(n), O(n²) with `distinct`.
    func merge(_ other: NewestList<Value>, into state: inout NewestList<Value>) {
        state.merge(other, limit: limit, distinct: distinct)
    }

    /// The values, newest first.
    ///
    /// - Complexity: O(n).
    func result(of state: NewestList<Value>, at time: Int64) -> FeatureValue {
        .list(state.entries.map(\.value.featureValue))
    }

    /// A varint count, then time, arrival and value per entry, newest first.
    ///
    /// - Complexity: O(n).
    func encode(_ state: NewestList<Value>, into bytes: inout [UInt8]) {
        bytes.appendVarint(UInt64(state.entries.count))
        for entry in state.entries {
            entry.encodeStamp(into: &bytes)
            entry.value.encode(into: &bytes)
        }
    }

    /// Reads what `encode` wrote.
    ///
    /// - Complexity: O(n).
    func decode(from reader: inout ByteReader) throws(AggregationError) -> NewestList<Value> {
        let count = try reader.readCount(minimumBytesPerElement: 3)
        var entries: [Stamped<Value>] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let time = try reader.readZigzag()
            let arrival = try reader.readVarint()
            entries.append(Stamped(value: try Value.decode(from: &reader), time: time, arrival: arrival))
        }
        return NewestList(entries: entries)
    }
}
