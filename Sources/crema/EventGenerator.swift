import CremaAggregation
import CremaSpec
import Foundation

/// Generates NDJSON events of one event type of a spec, for benchmarks: entity key fields take
/// `entities` distinct values (uniformly, or Zipf-distributed), other strings a few dozen,
/// numbers random (floats with three decimals, or in full as a JSON writer prints a double),
/// times within the last hour.
struct EventGenerator {
    private let schema: EventSchema
    private let keyFields: Set<String>
    private let entities: Int
    /// With a skew: the running sums of the Zipf weights 1/(rank + 1)^skew of the entity ids.
    private let cumulativeWeights: [Double]?
    /// Whether floats and vector elements are written in full (up to 17 significant digits).
    private let writesFloatsInFull: Bool
    private var random: SplitMix64

    /// A generator for `event` of `spec`; `keySkew` 0 picks entity ids uniformly, s > 0 picks
    /// the id of rank r with probability ∝ 1/(r + 1)^s (real traffic: a few videos and users
    /// take most events). `writesFloatsInFull` writes a float as a random double in [0, 1000)
    /// (a vector element in [0, 1)) prints, not with three decimals.
    init(spec: CompiledSpec, event: String, entities: Int, keySkew: Double = 0, writesFloatsInFull: Bool = false, seed: UInt64) throws {
        guard let schema = spec.event(named: event) else {
            throw BenchmarkError("the spec has no event \"\(event)\"")
        }
        self.schema = schema
        keyFields = Set(spec.groups.filter { $0.event == event }.flatMap { group in
            group.keyFieldIndices.map { schema.fields[$0].name }
        })
        self.entities = entities
        if keySkew > 0 {
            var total = 0.0
            cumulativeWeights = (0..<entities).map { rank in
                total += 1 / pow(Double(rank + 1), keySkew)
                return total
            }
        } else {
            cumulativeWeights = nil
        }
        self.writesFloatsInFull = writesFloatsInFull
        random = SplitMix64(seed: seed)
    }

    /// A random float in [0, `scale`): with three decimals, or in full.
    private mutating func float(scale: Double) -> String {
        guard writesFloatsInFull else { return String(Double(random.next() % UInt64(scale * 1_000)) / 1_000) }
        return String(Double(random.next() >> 11) / Double(1 << 53) * scale)
    }

    /// An entity id rank: uniform, or by the Zipf weights (a binary search of the running sums).
    private mutating func entityRank() -> Int {
        guard let weights = cumulativeWeights, let total = weights.last else { return Int(random.next() % UInt64(entities)) }
        let target = Double(random.next() >> 11) / Double(1 << 53) * total
        var low = 0
        var high = weights.count - 1
        while low < high {
            let middle = (low + high) / 2
            if weights[middle] <= target { low = middle + 1 } else { high = middle }
        }
        return low
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
                let value = keyFields.contains(field.name) ? entityRank() : Int(random.next() % 40)
                line += "\"\(field.name.prefix(1))\(value)\""
            case .int: line += String(random.next() % 100_000)
            case .float: line += float(scale: 1_000)
            case .bool: line += random.next() % 2 == 0 ? "true" : "false"
            case .vector(let dimension):
                line += "[" + (0..<dimension).map { _ in float(scale: 1) }.joined(separator: ", ") + "]"
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
