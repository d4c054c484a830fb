import Testing
@testable import CremaAggregation

/// The laws every kernel obeys, checked over seeded random events: merge is associative
/// and has `empty` as identity, merging partitions equals adding everything to one state,
/// the order events are applied in does not matter (their (time, arrival) stamps decide),
/// renumbering arrivals does not matter for commutative operations, and every state
/// round-trips through its encoding.
struct KernelLaws<Kernel: AggregationKernel> {
    /// The kernel under test.
    let kernel: Kernel
    /// Whether the result ignores arrival numbers (count, sum, min, …; not first, last, last_n, sequence).
    let isCommutative: Bool
    /// Relative tolerance for float results (0: exact).
    var tolerance: Double = 0
    /// Events per round.
    var eventCount = 60
    /// How to draw one event.
    var makeEvent: (inout SplitMix64) -> [FieldValue] = TestEvents.random

    /// One stamped event as the kernel sees it.
    private struct Stamped {
        let input: Kernel.Input
        let time: Int64
        let arrival: UInt64
    }

    /// Checks every law over `rounds` random streams.
    func check(seed: UInt64, rounds: Int = 20) throws {
        var generator = SplitMix64(seed: seed)
        for _ in 0..<rounds {
            var events: [Stamped] = []
            var arrival: UInt64 = 0
            for _ in 0..<eventCount {
                arrival += UInt64.random(in: 1...3, using: &generator)
                let time = 1_700_000_000_000 + Int64.random(in: 0..<20, using: &generator) * 500_000
                guard let input = kernel.input(from: makeEvent(&generator)) else { continue }
                events.append(Stamped(input: input, time: time, arrival: arrival))
            }
            let whole = state(of: events)
            let cuts = [Int.random(in: 0...events.count, using: &generator), Int.random(in: 0...events.count, using: &generator)].sorted()
            let a = state(of: Array(events[..<cuts[0]]))
            let b = state(of: Array(events[cuts[0]..<cuts[1]]))
            let c = state(of: Array(events[cuts[1]...]))

            var leftFirst = a
            kernel.merge(b, into: &leftFirst)
            kernel.merge(c, into: &leftFirst)
            var rightFirst = b
            kernel.merge(c, into: &rightFirst)
            var grouped = a
            kernel.merge(rightFirst, into: &grouped)
            expectSame(leftFirst, grouped, "merge is associative")
            expectSame(leftFirst, whole, "merged partitions equal one state")

            var withEmptyRight = a
            kernel.merge(kernel.empty, into: &withEmptyRight)
            #expect(withEmptyRight == a, "empty is a right identity")
            var withEmptyLeft = kernel.empty
            kernel.merge(a, into: &withEmptyLeft)
            #expect(withEmptyLeft == a, "empty is a left identity")

            expectSame(state(of: events.shuffled(using: &generator)), whole, "application order does not matter")
            if isCommutative {
                let renumbered = zip(events, events.map(\.arrival).shuffled(using: &generator)).map {
                    Stamped(input: $0.input, time: $0.time, arrival: $1)
                }
                expectSame(state(of: renumbered.shuffled(using: &generator)), whole, "arrival order does not matter")
            }

            for state in [whole, a, kernel.empty] {
                var bytes: [UInt8] = []
                kernel.encode(state, into: &bytes)
                let decoded = try bytes.withUnsafeBytes { buffer in
                    var reader = ByteReader(buffer)
                    let decoded = try kernel.decode(from: &reader)
                    #expect(reader.isAtEnd, "decode reads the whole encoding")
                    return decoded
                }
                #expect(decoded == state, "encode/decode round-trips")
            }
        }
    }

    /// The state of adding `events` in order to `empty`.
    private func state(of events: [Stamped]) -> Kernel.State {
        var state = kernel.empty
        for event in events { kernel.add(event.input, time: event.time, arrival: event.arrival, to: &state) }
        return state
    }

    /// Expects equal results at a few read times (floats within the tolerance).
    private func expectSame(_ lhs: Kernel.State, _ rhs: Kernel.State, _ law: Comment) {
        for time: Int64 in [1_700_000_000_000, 1_700_000_000_000 + 5_000_000, 1_700_000_000_000 + 20_000_000] {
            let left = kernel.result(of: lhs, at: time)
            let right = kernel.result(of: rhs, at: time)
            #expect(TestEvents.approximatelyEqual(left, right, tolerance: tolerance), law)
        }
    }
}
