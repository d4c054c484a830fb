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
    var empty: SequenceEntries { SequenceEntries() }

    /// The whole event: `add` writes the aggregate's fields straight into the state (never skipped).
    func input(from fields: [FieldValue]) -> [FieldValue]? { fields }

    /// Prefetches the buffer `add` reads.
    func prefetchContents(ofStateAt address: UnsafeRawPointer) { SequenceEntries.prefetch(entriesAt: address) }

    /// Prefetches the rest of the buffer, which an insert reads from the newest entry back.
    func prefetchFurtherContents(ofStateAt address: UnsafeRawPointer) { SequenceEntries.prefetchRest(ofEntriesAt: address) }

    /// Inserts the event's fields at its place.
    ///
    /// - Complexity: O(size of the fields) for the newest event, O(size of the state) otherwise.
    func add(_ input: [FieldValue], time: Int64, arrival: UInt64, to state: inout SequenceEntries) {
        state.insert(time: time, arrival: arrival, limit: limit) { bytes in
            for field in fields { input[field].encode(into: &bytes) }
        }
    }

    /// The newest `n` of both.
    ///
    /// - Complexity: O(n × number of fields).
    func merge(_ other: SequenceEntries, into state: inout SequenceEntries) {
        guard other.count > 0 else { return }
        var merged = NewestList(entries: state.newestFirst)
        merged.merge(NewestList(entries: other.newestFirst), limit: limit, distinct: false)
        state = SequenceEntries(newestFirst: merged.entries)
    }

    /// One object per event, newest first: each field by name, then `ts`.
    ///
    /// - Complexity: O(n × number of fields).
    func result(of state: SequenceEntries, at time: Int64) -> FeatureValue {
        .list(state.newestFirst.map { entry in
            var members = zip(names, entry.value).map { FeatureValue.Member($0, $1.featureValue) }
            members.append(FeatureValue.Member("ts", .int(entry.time)))
            return .object(members)
        })
    }

    /// A varint count, then per entry, newest first, time, arrival and each field value (tagged).
    ///
    /// - Complexity: O(size of the state).
    func encode(_ state: SequenceEntries, into bytes: inout [UInt8]) {
        state.encode(into: &bytes)
    }

    /// Reads what `encode` wrote.
    ///
    /// - Complexity: O(n × number of fields).
    func decode(from reader: inout ByteReader) throws(AggregationError) -> SequenceEntries {
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
        return SequenceEntries(newestFirst: entries)
    }
}
