import Testing
@testable import CremaAggregation

/// Values and empty results exactly as DESIGN.md's table says.
@Suite struct KernelResultTests {
    /// An event with the test schema's fields.
    private func event(_ n: Int64? = nil, _ x: Double? = nil, _ s: String? = nil, b: Bool? = nil, v: [Float]? = nil) -> [FieldValue] {
        [n.map(FieldValue.int) ?? .null, x.map(FieldValue.float) ?? .null, s.map(FieldValue.string) ?? .null,
         b.map(FieldValue.bool) ?? .null, v.map(FieldValue.vector) ?? .null]
    }

    /// The lifetime value after adding `events` with times 1, 2, 3, …
    private func read(_ operation: Operation, _ inputs: [AggregateInput], _ events: [[FieldValue]], at time: Int64 = 0) throws -> FeatureValue {
        let aggregator = try makeAggregator(operation: operation, inputs: inputs, windows: [])
        let state = aggregator.makeState()
        for (offset, fields) in events.enumerated() {
            _ = aggregator.add(fields, time: Int64(offset + 1), arrival: UInt64(offset + 1), now: 0, to: state)
        }
        return aggregator.result(of: state, feature: 0, at: time)
    }

    @Test func emptyValues() throws {
        let e = TestEvents.self
        let window = [Window(length: Milliseconds.hour, name: "1h")]
        let cases: [(Operation, [AggregateInput], FeatureValue)] = [
            (.count, [], .int(0)), (.sum, [e.int], .int(0)), (.sum, [e.float], .float(0)),
            (.min, [e.string], .null), (.max, [e.bool], .null), (.first, [e.int], .null), (.last, [e.vector], .null),
            (.mean, [e.int], .null), (.variance, [e.float], .null),
            (.topK(k: 2, capacity: 10), [e.string], .list([])), (.histogram(capacity: 10), [e.int], .object([])),
            (.approxDistinct, [e.string], .int(0)), (.approxQuantile(quantiles: [0.5]), [e.float], .null),
        ]
        for (operation, inputs, expected) in cases {
            let aggregator = try makeAggregator(operation: operation, inputs: inputs, windows: window)
            #expect(aggregator.result(of: aggregator.makeState(), feature: 0, at: 1_000) == expected, "\(operation.name)")
            #expect(aggregator.evict(aggregator.makeState(), now: 0))
        }
        #expect(try read(.lastN(n: 2, distinct: false), [e.string], []) == .list([]))
        #expect(try read(.sequence(n: 2), [e.string], []) == .list([]))
        #expect(try read(.decayedCount(halfLife: 1_000), [], []) == .float(0))
        #expect(try read(.decayedSum(halfLife: 1_000), [e.float], []) == .float(0))
    }

    @Test func typesAndOrders() throws {
        let e = TestEvents.self
        let strings = ["a", "B", "é", "日本", "ü", "ab"].map { event(nil, nil, $0) }
        #expect(try read(.min, [e.string], strings) == .string("B"), "UTF-8 bytes: uppercase first")
        #expect(try read(.max, [e.string], strings) == .string("日本"), "UTF-8 bytes: the three-byte character last")
        #expect(try read(.min, [e.bool], [event(b: true), event(b: false)]) == .bool(false))
        #expect(try read(.max, [e.int], [event(3), event(-7), event(nil)]) == .int(3), "int stays int, null skipped")
        #expect(try read(.last, [e.vector], [event(v: [1, 2]), event(v: [3, 4])]) == .vector([3, 4]))
        #expect(try read(.first, [e.float], [event(nil, 1.5), event(nil, 2.5)]) == .float(1.5))
        #expect(try read(.sum, [e.int], [event(.max), event(2)]) == .int(.min + 1), "int sums wrap")
        #expect(try read(.mean, [e.int], [event(1), event(2)]) == .float(1.5))
        #expect(try read(.variance, [e.int], [event(1), event(3)]) == .float(1), "population variance")
        #expect(try read(.count, [e.string], [event(nil, nil, "a"), event(), event(nil, nil, "b")]) == .int(2))
        #expect(try read(.count, [], [event(), event()]) == .int(2))
    }

    @Test func eventOrderBreaksTimeTiesByArrival() throws {
        let aggregator = try makeAggregator(operation: .last, inputs: [TestEvents.string], windows: [])
        let state = aggregator.makeState()
        _ = aggregator.add(event(nil, nil, "late arrival"), time: 5, arrival: 9, now: 0, to: state)
        _ = aggregator.add(event(nil, nil, "early arrival"), time: 5, arrival: 2, now: 0, to: state)
        _ = aggregator.add(event(nil, nil, "older"), time: 4, arrival: 10, now: 0, to: state)
        #expect(aggregator.result(of: state, feature: 0, at: 0) == .string("late arrival"))
    }

    @Test func lastNAndSequence() throws {
        let e = TestEvents.self
        let events = ["a", "b", "a", "c", "b"].map { event(nil, nil, $0) }
        #expect(try read(.lastN(n: 3, distinct: false), [e.string], events) == .list([.string("b"), .string("c"), .string("a")]))
        #expect(try read(.lastN(n: 2, distinct: true), [e.string], events) == .list([.string("b"), .string("c")]))
        #expect(try read(.lastN(n: 5, distinct: true), [e.string], events) == .list([.string("b"), .string("c"), .string("a")]))
        let sequence = try read(.sequence(n: 2), [e.int, e.string], [event(1, nil, "x"), event(nil, nil, "y"), event(3)])
        #expect(sequence == .list([
            .object([.init("n", .int(3)), .init("s", .null), .init("ts", .int(3))]),
            .object([.init("n", .null), .init("s", .string("y")), .init("ts", .int(2))]),
        ]), "events with null fields are kept")
    }

    @Test func topKAndHistogramOrder() throws {
        let e = TestEvents.self
        let numbers = [10, 9, 10, 9, -3, 2].map { event(Int64($0)) }
        #expect(try read(.topK(k: 3, capacity: 100), [e.int], numbers) == .list([
            .object([.init("value", .int(9)), .init("count", .int(2))]),
            .object([.init("value", .int(10)), .init("count", .int(2))]),
            .object([.init("value", .int(-3)), .init("count", .int(1))]),
        ]), "count descending, then numbers numerically")
        #expect(try read(.histogram(capacity: 100), [e.int], numbers) == .object([
            .init("-3", .int(1)), .init("2", .int(1)), .init("9", .int(2)), .init("10", .int(2)),
        ]))
        #expect(try read(.histogram(capacity: 100), [e.bool], [event(b: true), event(b: false), event(b: true)]) == .object([
            .init("false", .int(1)), .init("true", .int(2)),
        ]))
        let strings = ["b", "B", "a"].map { event(nil, nil, $0) }
        #expect(try read(.topK(k: 5, capacity: 100), [e.string], strings) == .list(["B", "a", "b"].map {
            .object([.init("value", .string($0)), .init("count", .int(1))])
        }), "ties by UTF-8 bytes")
    }

    @Test func topKBeyondCapacityKeepsFrequentValues() throws {
        var events: [[FieldValue]] = []
        var generator = SplitMix64(seed: 5)
        for index in 0..<5_000 {
            events.append(event(nil, nil, index.isMultiple(of: 4) ? "hot" : "cold-\(Int.random(in: 0..<2_000, using: &generator))"))
        }
        guard case .list(let top) = try read(.topK(k: 1, capacity: 50), [TestEvents.string], events),
              case .object(let members) = top.first else {
            Issue.record("top_k is not a list of objects")
            return
        }
        #expect(members.first?.value == .string("hot"))
        guard case .int(let count) = members.last?.value else { return }
        #expect(count >= 1_250, "space-saving never undercounts a kept value")
    }

    @Test func decayedWeights() throws {
        let hour = Milliseconds.hour
        let aggregator = try makeAggregator(operation: .decayedCount(halfLife: hour), inputs: [], windows: [])
        let state = aggregator.makeState()
        _ = aggregator.add(event(), time: 10 * hour, arrival: 1, now: 0, to: state)
        _ = aggregator.add(event(), time: 8 * hour, arrival: 2, now: 0, to: state)
        #expect(aggregator.result(of: state, feature: 0, at: 10 * hour) == .float(1.25))
        #expect(aggregator.result(of: state, feature: 0, at: 9 * hour) == .float(2.5), "an event after the read weighs more than 1")
        let sum = try read(.decayedSum(halfLife: hour), [TestEvents.float], [event(nil, 4.0)], at: 1 + 2 * hour)
        #expect(sum == .float(1))
    }

    @Test func outcomesAndRetention() throws {
        let aggregator = try makeAggregator(operation: .count, inputs: [TestEvents.string], windows: [Window(length: Milliseconds.hour, name: "1h")])
        let state = aggregator.makeState()
        let now: Int64 = 1_763_900_000_000
        #expect(aggregator.add(event(), time: now, arrival: 1, now: now, to: state) == .skipped)
        #expect(aggregator.add(event(nil, nil, "a"), time: now, arrival: 2, now: now, to: state) == .kept)
        #expect(aggregator.add(event(nil, nil, "a"), time: now - 2 * Milliseconds.hour, arrival: 3, now: now, to: state) == .late)
        #expect(!aggregator.evict(state, now: now + Milliseconds.hour))
        #expect(aggregator.evict(state, now: now + 2 * Milliseconds.hour), "nothing left once every window passed")
        #expect(aggregator.result(of: state, feature: 0, at: now) == .int(0))
    }

    @Test func rejectsUnsupportedCombinations() {
        let e = TestEvents.self
        let window = [Window(length: Milliseconds.hour, name: "1h")]
        let cases: [(Operation, [AggregateInput], [Window])] = [
            (.sum, [e.string], window), (.mean, [e.bool], window), (.min, [e.vector], window),
            (.lastN(n: 3, distinct: false), [e.string], window), (.decayedCount(halfLife: 1_000), [], window),
            (.topK(k: 0, capacity: 10), [e.string], window), (.count, [e.int, e.string], window),
            (.approxQuantile(quantiles: [1.5]), [e.float], window), (.sequence(n: 2), [], []),
            (.count, [], [Window(length: Milliseconds.hour, hop: 0, name: "1h")]),
        ]
        for (operation, inputs, windows) in cases {
            #expect(throws: AggregationError.self, "\(operation.name)") {
                try makeAggregator(operation: operation, inputs: inputs, windows: windows)
            }
        }
    }
}
