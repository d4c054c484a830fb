import Testing
@testable import CremaAggregation

/// One aggregate checked against `NaiveWindow`.
struct OracleCase: Sendable, CustomStringConvertible {
    /// The operation.
    let operation: Operation
    /// Its inputs.
    let inputs: [AggregateInput]
    /// Whether it has windows (else lifetime).
    let isWindowed: Bool

    /// The operation and its field names.
    var description: String { "\(operation.name)(\(inputs.map(\.name).joined(separator: ",")))\(isWindowed ? "" : " lifetime")" }

    /// Windows with default and custom hops, two sharing a hop: 1h (5m), 30m (hop 10m), 1d (1h), 7h (1h).
    static let windows = [
        Window(length: Milliseconds.hour, name: "1h"),
        Window(length: 30 * Milliseconds.minute, hop: 10 * Milliseconds.minute, name: "30m"),
        Window(length: Milliseconds.day, name: "1d"),
        Window(length: 7 * Milliseconds.hour, name: "7h"),
    ]

    /// Every operation over the test schema, windowed where the spec allows and lifetime.
    static let all: [OracleCase] = {
        let e = TestEvents.self
        let windowed: [(Operation, [AggregateInput])] = [
            (.count, []), (.count, [e.string]), (.sum, [e.int]), (.sum, [e.float]),
            (.min, [e.string]), (.max, [e.int]), (.min, [e.bool]), (.max, [e.float]),
            (.mean, [e.int]), (.variance, [e.float]), (.first, [e.string]), (.last, [e.vector]), (.last, [e.int]),
            (.topK(k: 3, capacity: 1_000), [e.string]), (.histogram(capacity: 1_000), [e.int]),
            (.histogram(capacity: 1_000), [e.bool]), (.approxDistinct, [e.string]), (.approxDistinct, [e.int]),
            (.approxQuantile(quantiles: [0, 0.5, 0.9, 1]), [e.float]),
        ]
        let lifetimeOnly: [(Operation, [AggregateInput])] = [
            (.lastN(n: 4, distinct: false), [e.string]), (.lastN(n: 4, distinct: true), [e.string]),
            (.lastN(n: 3, distinct: false), [e.vector]), (.sequence(n: 5), [e.int, e.string, e.bool, e.vector]),
            (.decayedCount(halfLife: Milliseconds.hour), []), (.decayedSum(halfLife: 6 * Milliseconds.hour), [e.int]),
        ]
        return windowed.map { OracleCase(operation: $0.0, inputs: $0.1, isWindowed: true) }
            + (windowed + lifetimeOnly).map { OracleCase(operation: $0.0, inputs: $0.1, isWindowed: false) }
    }()
}

/// Tiled (and lifetime) aggregates agree with the brute-force oracle over random streams.
@Suite struct TiledWindowTests {
    @Test(arguments: OracleCase.all)
    func agreesWithNaiveWindow(_ scenario: OracleCase) throws {
        let windows = scenario.isWindowed ? OracleCase.windows : []
        let aggregator = try makeAggregator(operation: scenario.operation, inputs: scenario.inputs, windows: windows)
        #expect(aggregator.featureCount == max(windows.count, 1))
        var oracle = NaiveWindow(operation: scenario.operation, inputs: scenario.inputs, windows: windows)
        var generator = SplitMix64(seed: UInt64(scenario.description.utf8.count) &* 7919 &+ 17)
        let whole = aggregator.makeState()
        let evens = aggregator.makeState()
        let odds = aggregator.makeState()
        var now: Int64 = 1_763_900_000_000 + 123_457
        var arrival: UInt64 = 0
        var previousTime = now
        var outcomes: [AddOutcome: Int] = [:]
        let hops = windows.map(\.hop) + [5 * Milliseconds.minute]

        for step in 1...600 {
            switch Int.random(in: 0..<100, using: &generator) {
            case 0..<70: now += Int64.random(in: 0..<120_000, using: &generator)
            case 70..<97: now += Int64.random(in: 0..<1_800_000, using: &generator)
            default: now += Int64.random(in: 0..<(30 * Milliseconds.hour), using: &generator)
            }
            let time: Int64
            switch Int.random(in: 0..<100, using: &generator) {
            case 0..<45: time = now - Int64.random(in: 0..<600_000, using: &generator)
            case 45..<65: time = now - Int64.random(in: 0..<(2 * Milliseconds.day), using: &generator)
            case 65..<82:
                let hop = hops[Int.random(in: 0..<hops.count, using: &generator)]
                let tile = floorDivide(now - Int64.random(in: 0..<(3 * Milliseconds.hour), using: &generator), hop)
                time = tile * hop - (Bool.random(using: &generator) ? 1 : 0)
            case 82..<92: time = now + Int64.random(in: 0..<60_000, using: &generator)
            default: time = previousTime
            }
            previousTime = time
            arrival += 1
            let fields = TestEvents.random(using: &generator)
            let expected = oracle.add(fields, time: time, arrival: arrival, now: now)
            let outcome = aggregator.add(fields, time: time, arrival: arrival, now: now, to: whole)
            #expect(outcome == expected, "add outcome at step \(step)")
            outcomes[outcome, default: 0] += 1
            _ = aggregator.add(fields, time: time, arrival: arrival, now: now, to: step.isMultiple(of: 2) ? evens : odds)

            guard step.isMultiple(of: 15) else { continue }
            #expect(aggregator.evict(whole, now: now) == oracle.isEmpty(now: now), "evict at step \(step)")
            var readTimes: [Int64] = [now, now + Int64.random(in: 0..<3_600_000, using: &generator)]
            for _ in 0..<3 {
                readTimes.append(now - Int64.random(in: 0..<(2 * Milliseconds.day), using: &generator))
                let hop = hops[Int.random(in: 0..<hops.count, using: &generator)]
                let edge = floorDivide(now - Int64.random(in: 0..<(25 * Milliseconds.hour), using: &generator), hop) * hop
                readTimes += [edge, edge - 1]
            }
            var encoded: [UInt8] = []
            aggregator.encode(whole, into: &encoded)
            for at in readTimes {
                for feature in 0..<aggregator.featureCount {
                    let actual = aggregator.result(of: whole, feature: feature, at: at)
                    let expected = oracle.value(feature: feature, at: at, now: now)
                    let isAccepted = oracle.accepts(actual, expected: expected)
                    #expect(isAccepted, "feature \(feature) at \(at), now \(now): \(actual) vs \(expected)")
                }
                // Straight from the encoding, features in any order: the same values as the state.
                let asked = (0..<aggregator.featureCount).shuffled(using: &generator)
                var fromBytes: [FeatureValue?] = Array(repeating: nil, count: asked.count)
                try encoded.withUnsafeBytes { bytes in
                    try aggregator.readResults(ofEncoded: bytes, features: asked, at: at) { fromBytes[$0] = $1 }
                }
                for (slot, feature) in asked.enumerated() {
                    #expect(fromBytes[slot] == aggregator.result(of: whole, feature: feature, at: at), "feature \(feature) read from bytes at \(at)")
                }
            }
        }
        if scenario.isWindowed { #expect(outcomes[.late, default: 0] > 0, "the stream exercises late events") }

        _ = aggregator.evict(evens, now: now)
        _ = aggregator.evict(odds, now: now)
        aggregator.merge(odds, into: evens)
        var bytes: [UInt8] = []
        aggregator.encode(whole, into: &bytes)
        let decoded = try bytes.withUnsafeBytes { try aggregator.decode($0) }
        for at in [now, now - Milliseconds.hour, now - 20 * Milliseconds.hour] {
            for feature in 0..<aggregator.featureCount {
                let expected = aggregator.result(of: whole, feature: feature, at: at)
                #expect(aggregator.result(of: decoded, feature: feature, at: at) == expected, "decoded state reads the same")
                let merged = aggregator.result(of: evens, feature: feature, at: at)
                let isAccepted = oracle.accepts(merged, expected: expected)
                #expect(isAccepted, "merged halves read like the whole: \(merged) vs \(expected)")
            }
        }
    }
}
