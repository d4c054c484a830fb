/// sequence: the newest `n` events as objects of the aggregate's fields plus `ts`, newest
/// first. Events whose fields are null are kept (the object holds null). Empty: [].
struct SequenceKernel: AggregationKernel {
    /// The fields' indices in the event.
    let fields: [Int]
    /// The fields' names, parallel to `fields`.
    let names: [String]
    /// How many events to keep.
    let limit: Int

    /// No events.
    var empty: NewestList<[FieldValue]> { NewestList() }

    /// The event's values of the aggregate's fields (never skipped).
    ///
    /// - Complexity: O(number of fields).
    func input(from fields: [FieldValue]) -> [FieldValue]? { self.fields.map { fields[$0] } }

    /// Prefetches the buffers `add` reads.
    func prefetchContents(ofStateAt address: UnsafeRawPointer) { NewestList<[FieldValue]>.prefetch(listAt: address) }

    /// Inserts the event at its place.
    ///
    /// - Complexity: O(n).
    func add(_ input: [FieldValue], time: Int64, arrival: UInt64, to state: inout NewestList<[FieldValue]>) {
        state.insert(Stamped(value: input, time: time, arrival: arrival), limit: limit, distinct: false)
    }

    /// The newest `n` of both.
    ///
    /// - Complexity: O(n).
    func merge(_ other: NewestList<[FieldValue]>, into state: inout NewestList<[FieldValue]>) {
        state.merge(other, limit: limit, distinct: false)
    }

    /// One object per event, newest first: each field by name, then `ts`.
    ///
    /// - Complexity: O(n × number of fields).
    func result(of state: NewestList<[FieldValue]>, at time: Int64) -> FeatureValue {
        .list(state.entries.map { entry in
            var members = zip(names, entry.value).map { FeatureValue.Member($0, $1.featureValue) }
            members.append(FeatureValue.Member("ts", .int(entry.time)))
            return .object(members)
        })
    }

    /// A varint count, then per entry time, arrival and each field value (tagged).
    ///
    /// - Complexity: O(n × number of fields).
    func encode(_ state: NewestList<[FieldValue]>, into bytes: inout [UInt8]) {
        bytes.appendVarint(UInt64(state.entries.count))
        for entry in state.entries {
            entry.encodeStamp(into: &bytes)
            for value in entry.value { value.encode(into: &bytes) }
        }
    }

    /// Reads what `encode` wrote.
    ///
    /// - Complexity: O(n × number of fields).
    func decode(from reader: inout ByteReader) throws(AggregationError) -> NewestList<[FieldValue]> {
        let count = try reader.readCount(minimumBytesPerElement: 2 + fields.count)
        var entries: [Stamped<[FieldValue]>] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let time = try reader.readZigzag()
            let arrival = try reader.readVarint()
            var values: [FieldValue] = []
            values.reserveCapacity(fields.count)
            for _ in fields { values.append(try FieldValue.decode(from: &reader)) }
            entries.append(Stamped(value: values, time: time, arrival: arrival))
        }
        return NewestList(entries: entries)
    }
}
