import CremaAggregation
import CremaEngine
import CremaSpec

/// The spec the ingest tests decode against: a `view` event with every field type and an
/// event time, and a `click` event stamped with its arrival time.
enum Fixtures {
    static let view = EventSchema(
        name: "view",
        fields: [
            EventField(name: "user_id", type: .string, isOptional: false),
            EventField(name: "video_id", type: .string, isOptional: false),
            EventField(name: "country", type: .string, isOptional: true),
            EventField(name: "watch_ms", type: .int, isOptional: false),
            EventField(name: "liked", type: .bool, isOptional: true),
            EventField(name: "score", type: .float, isOptional: true),
            EventField(name: "embedding", type: .vector(dimension: 3), isOptional: true),
        ],
        timeField: "ts")

    static let click = EventSchema(
        name: "click",
        fields: [EventField(name: "user_id", type: .string, isOptional: false)],
        timeField: nil)

    static let spec = CompiledSpec(events: [view, click], entities: [], groups: [])

    static let decoder = EventDecoder(spec: spec)

    /// A valid view line with the given `seq`.
    static func viewLine(seq: Int? = nil, user: String = "u1", time: Int64 = 1_763_900_000_000) -> String {
        let sequence = seq.map { "\"seq\": \($0), " } ?? ""
        return "{\"type\": \"view\", \(sequence)\"ts\": \(time), \"user_id\": \"\(user)\", \"video_id\": \"v9\", \"watch_ms\": 1200}"
    }
}
