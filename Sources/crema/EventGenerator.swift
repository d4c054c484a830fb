import CremaAggregation
import CremaSpec

/// Generates NDJSON events of one event type of a spec, for benchmarks: entity key fields take
/// `entities` distinct values, other strings a few dozen, numbers random, times within the last hour.
struct EventGenerator {
    private let schema: EventSchema
    private let keyFields: Set<String>
    private let entities: Int
    private var random: SplitMix64

    /// A generator for `event` of `spec`.
    init(spec: CompiledSpec, event: String, entities: Int, seed: UInt64) throws {
        guard let schema = spec.event(named: event) else {
            throw BenchmarkError("the spec has no event \"\(event)\"")
        }
        self.schema = schema
        keyFields = Set(spec.groups.filter { $0.event == event }.flatMap { group in
            group.keyFieldIndices.map { schema.fields[$0].name }
        })
        self.entities = entities
        random = SplitMix64(seed: seed)
    }

    /// One line, newline-terminated, with `seq` and a time up to an hour before `now`.
    mutating func line(sequence: Int, now: Int64) -> String {
        var line = "{\"type\": \"\(schema.name)\", \"seq\": \(sequence)"
        if let timeField = schema.timeField {
            line += ", \"\(timeField)\": \(now - Int64(random.next() % 3_600_000))"
        }
        for field in schema.fields {
            line += ", \"\(field.name)\": "
            switch field.type {
            case .string:
                let distinct = keyFields.contains(field.name) ? entities : 40
                line += "\"\(field.name.prefix(1))\(random.next() % UInt64(distinct))\""
            case .int: line += String(random.next() % 100_000)
            case .float: line += String(Double(random.next() % 1_000_000) / 1_000)
            case .bool: line += random.next() % 2 == 0 ? "true" : "false"
            case .vector(let dimension):
                line += "[" + (0..<dimension).map { _ in String(Double(random.next() % 1_000) / 1_000) }.joined(separator: ", ") + "]"
            }
        }
        return line + "}\n"
    }
}

/// A small, fast, seeded random number generator (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    /// A generator starting from `seed`.
    init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// A benchmark that cannot run as asked.
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
