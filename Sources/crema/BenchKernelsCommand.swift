import ArgumentParser
import CremaAggregation

/// `crema bench kernels`: ns per add and per 7-day window read for each operation, through
/// the `Aggregator` API the engine uses.
struct BenchKernelsCommand: ParsableCommand {
    /// The subcommand's name and abstract.
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "ns per add and per window read for each op"
    )

    /// Adds measured per operation.
    @Option(help: "Adds measured per operation.")
    var adds = 2_000_000

    /// Window reads measured per operation.
    @Option(help: "Window reads measured per operation.")
    var reads = 20_000

    /// One benchmarked aggregate.
    private struct Case {
        /// The row label.
        let label: String
        /// The operation.
        let operation: Operation
        /// Its inputs in `BenchKernelsCommand.schema` order.
        let inputs: [AggregateInput]
        /// Whether it reads a 7-day window (else a lifetime feature).
        let isWindowed: Bool
    }

    // The benchmark events' fields: user, country, watch_ms, score.
    private static let user = AggregateInput(index: 0, type: .string, name: "user_id")
    private static let country = AggregateInput(index: 1, type: .string, name: "country")
    private static let watch = AggregateInput(index: 2, type: .int, name: "watch_ms")
    private static let score = AggregateInput(index: 3, type: .float, name: "score")

    /// Every operation, windowed where the spec allows.
    private static let cases: [Case] = [
        Case(label: "count", operation: .count, inputs: [], isWindowed: true),
        Case(label: "sum int", operation: .sum, inputs: [watch], isWindowed: true),
        Case(label: "sum float", operation: .sum, inputs: [score], isWindowed: true),
        Case(label: "min int", operation: .min, inputs: [watch], isWindowed: true),
        Case(label: "max string", operation: .max, inputs: [country], isWindowed: true),
        Case(label: "mean", operation: .mean, inputs: [score], isWindowed: true),
        Case(label: "variance", operation: .variance, inputs: [score], isWindowed: true),
        Case(label: "first", operation: .first, inputs: [country], isWindowed: true),
        Case(label: "last", operation: .last, inputs: [watch], isWindowed: true),
        Case(label: "top_k 5", operation: .topK(k: 5, capacity: Operation.defaultCapacity), inputs: [country], isWindowed: true),
        Case(label: "histogram", operation: .histogram(capacity: Operation.defaultCapacity), inputs: [country], isWindowed: true),
        Case(label: "approx_distinct", operation: .approxDistinct, inputs: [user], isWindowed: true),
        Case(label: "approx_quantile", operation: .approxQuantile(quantiles: [0.5, 0.99]), inputs: [score], isWindowed: true),
        Case(label: "last_n 50 distinct", operation: .lastN(n: 50, distinct: true), inputs: [user], isWindowed: false),
        Case(label: "sequence 20", operation: .sequence(n: 20), inputs: [user, country, watch], isWindowed: false),
        Case(label: "decayed_count", operation: .decayedCount(halfLife: Milliseconds.hour), inputs: [], isWindowed: false),
        Case(label: "decayed_sum", operation: .decayedSum(halfLife: Milliseconds.hour), inputs: [score], isWindowed: false),
    ]

    /// Runs every case and prints the table.
    func run() throws {
        let window = Window(length: 7 * Milliseconds.day, name: "7d")
        let now: Int64 = 1_763_900_000_000
        let events = Self.makeEvents(count: 4_096)
        print("op                  | ns/add | ns/read 7d")
        print("--------------------|--------|-----------")
        for benchmark in Self.cases {
            let aggregator = try makeAggregator(
                operation: benchmark.operation, inputs: benchmark.inputs, windows: benchmark.isWindowed ? [window] : []
            )
            let state = aggregator.makeState()
            var arrival: UInt64 = 0
            for tile in 0..<169 {
                let time = now - Int64(tile) * Milliseconds.hour
                for event in events.prefix(20) {
                    arrival += 1
                    _ = aggregator.add(event, time: time, arrival: arrival, now: now, to: state)
                }
            }
            let addClock = ContinuousClock()
            let addStart = addClock.now
            var kept = 0
            for index in 0..<adds {
                arrival += 1
                let outcome = aggregator.add(events[index & 4_095], time: now, arrival: arrival, now: now, to: state)
                if outcome == .kept { kept += 1 }
            }
            let addElapsed = addClock.now - addStart
            let readStart = addClock.now
            var nonNull = 0
            for index in 0..<reads {
                if aggregator.result(of: state, feature: 0, at: now + Int64(index & 1)) != .null { nonNull += 1 }
            }
            let readElapsed = addClock.now - readStart
            precondition(kept == adds && nonNull == reads, "every add is kept and every read has a value")
            let label = benchmark.label.padding(to: 19)
            print("\(label) | \(Self.nanoseconds(addElapsed, per: adds).padding(to: 6, left: true)) | \(Self.nanoseconds(readElapsed, per: reads).padding(to: 9, left: true))")
        }
    }

    /// Deterministic events: 1,000 users, 12 countries, varied watch times and scores.
    private static func makeEvents(count: Int) -> [[FieldValue]] {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let bits = state >> 16
            return [
                .string("u\(bits % 1_000)"), .string("c\((bits >> 12) % 12)"),
                .int(Int64((bits >> 20) % 600_000)), .float(Double((bits >> 24) % 10_000) / 100),
            ]
        }
    }

    /// The mean nanoseconds of `count` operations taking `elapsed` in total, one decimal.
    private static func nanoseconds(_ elapsed: Swift.Duration, per count: Int) -> String {
        let (seconds, attoseconds) = elapsed.components
        let total = Double(seconds) * 1e9 + Double(attoseconds) / 1e9
        let tenths = Int((total / Double(max(count, 1)) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

private extension String {
    /// The string padded with spaces to `width` (on the left when `left`).
    func padding(to width: Int, left: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - count))
        return left ? fill + self : self + fill
    }
}
