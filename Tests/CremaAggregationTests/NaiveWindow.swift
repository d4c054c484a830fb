#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import CremaAggregation

/// The brute-force reference for tiled aggregates: keeps every accepted event and computes
/// each operation straight from DESIGN.md's formulas, with no tiles and no partial states.
struct NaiveWindow {
    /// One accepted event.
    struct Event {
        /// The decoded fields.
        let fields: [FieldValue]
        /// The event time.
        let time: Int64
        /// The arrival sequence number.
        let arrival: UInt64
    }

    /// The operation.
    let operation: Operation
    /// Its inputs.
    let inputs: [AggregateInput]
    /// Its windows (empty for lifetime).
    let windows: [Window]
    /// Every event not skipped, in arrival order.
    private(set) var events: [Event] = []

    /// Creates an empty oracle.
    init(operation: Operation, inputs: [AggregateInput], windows: [Window]) {
        self.operation = operation
        self.inputs = inputs
        self.windows = windows
    }

    /// Records an event and says what the aggregator should report for it.
    mutating func add(_ fields: [FieldValue], time: Int64, arrival: UInt64, now: Int64) -> AddOutcome {
        if isSkipped(fields) { return .skipped }
        events.append(Event(fields: fields, time: time, arrival: arrival))
        if windows.isEmpty { return .kept }
        return windows.contains { isRetained(time, for: $0, now: now) } ? .kept : .late
    }

    /// Whether no event is retained at `now` (lifetime: no event at all).
    func isEmpty(now: Int64) -> Bool {
        if windows.isEmpty { return events.isEmpty }
        return !events.contains { event in windows.contains { isRetained(event.time, for: $0, now: now) } }
    }

    /// The feature's value read at `time` with the server clock at `now`.
    func value(feature: Int, at time: Int64, now: Int64) -> FeatureValue {
        guard !windows.isEmpty else { return compute(events, at: time) }
        let window = windows[feature]
        let hop = window.hop
        let covered = events.filter { event in
            floorDivide(time - window.length, hop) * hop <= event.time
                && event.time < (floorDivide(time, hop) + 1) * hop
                && isRetained(event.time, for: window, now: now)
        }
        return compute(covered, at: time)
    }

    /// Whether the tile of `time` is still kept for `window`'s hop at `now`: the longest
    /// window with that hop still reaches it.
    private func isRetained(_ time: Int64, for window: Window, now: Int64) -> Bool {
        let longest = windows.filter { $0.hop == window.hop }.map(\.length).max()!
        return time >= floorDivide(now - longest, window.hop) * window.hop
    }

    /// Whether the operation ignores the event (its field is null; sequence keeps all).
    private func isSkipped(_ fields: [FieldValue]) -> Bool {
        if case .sequence = operation { return false }
        guard let input = inputs.first else { return false }
        return fields[input.index].isNull
    }

    /// The operation over `events`, straight from the definitions.
    private func compute(_ events: [Event], at time: Int64) -> FeatureValue {
        let values = events.map { inputs.isEmpty ? FieldValue.null : $0.fields[inputs[0].index] }
        let numbers = values.compactMap(\.numericValue)
        let byTime = events.sorted { ($0.time, $0.arrival) < ($1.time, $1.arrival) }
        switch operation {
        case .count:
            return .int(Int64(events.count))
        case .sum:
            if inputs[0].type == .int {
                return .int(values.reduce(Int64(0)) { sum, value in
                    guard case .int(let number) = value else { return sum }
                    return sum &+ number
                })
            }
            return .float(numbers.reduce(0, +))
        case .min:
            return values.min(by: Self.precedes)?.featureValue ?? .null
        case .max:
            return values.max(by: Self.precedes)?.featureValue ?? .null
        case .mean:
            return numbers.isEmpty ? .null : .float(numbers.reduce(0, +) / Double(numbers.count))
        case .variance:
            guard !numbers.isEmpty else { return .null }
            let mean = numbers.reduce(0, +) / Double(numbers.count)
            return .float(numbers.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(numbers.count))
        case .first:
            return byTime.first.map { $0.fields[inputs[0].index].featureValue } ?? .null
        case .last:
            return byTime.last.map { $0.fields[inputs[0].index].featureValue } ?? .null
        case .lastN(let n, let distinct):
            var seen: [FieldValue] = []
            for event in byTime.reversed() where seen.count < n {
                let value = event.fields[inputs[0].index]
                if distinct && seen.contains(value) { continue }
                seen.append(value)
            }
            return .list(seen.map(\.featureValue))
        case .sequence(let n):
            return .list(byTime.reversed().prefix(n).map { event in
                .object(inputs.map { FeatureValue.Member($0.name, event.fields[$0.index].featureValue) }
                    + [FeatureValue.Member("ts", .int(event.time))])
            })
        case .topK(let k, _):
            return .list(Self.counts(of: values)
                .sorted { $0.count != $1.count ? $0.count > $1.count : Self.precedes($0.value, $1.value) }
                .prefix(k)
                .map { .object([FeatureValue.Member("value", $0.value.featureValue), FeatureValue.Member("count", .int($0.count))]) })
        case .histogram:
            return .object(Self.counts(of: values).sorted { Self.precedes($0.value, $1.value) }.map {
                FeatureValue.Member(Self.key(of: $0.value), .int($0.count))
            })
        case .approxDistinct:
            return .int(Int64(Set(values).count))
        case .approxQuantile(let quantiles):
            guard !numbers.isEmpty else { return .null }
            let sorted = numbers.sorted()
            return .list(quantiles.map { .float(sorted[Int((($0 * Double(sorted.count - 1))).rounded(.down))]) })
        case .decayedCount(let halfLife):
            return .float(events.map { exp2(-Double(time - $0.time) / Double(halfLife)) }.reduce(0, +))
        case .decayedSum(let halfLife):
            return .float(events.map {
                $0.fields[inputs[0].index].numericValue! * exp2(-Double(time - $0.time) / Double(halfLife))
            }.reduce(0, +))
        }
    }

    /// Exact counts per value.
    private static func counts(of values: [FieldValue]) -> [(value: FieldValue, count: Int64)] {
        var counts: [FieldValue: Int64] = [:]
        for value in values { counts[value, default: 0] += 1 }
        return counts.map { ($0.key, $0.value) }
    }

    /// Numbers numerically, strings by UTF-8 bytes, false before true.
    static func precedes(_ lhs: FieldValue, _ rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.int(let a), .int(let b)): return a < b
        case (.float(let a), .float(let b)): return a < b
        case (.string(let a), .string(let b)): return Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
        case (.bool(let a), .bool(let b)): return !a && b
        default: return false
        }
    }

    /// A histogram key as DESIGN.md spells it.
    private static func key(of value: FieldValue) -> String {
        switch value {
        case .int(let number): return "\(number)"
        case .float(let number): return "\(number)"
        case .string(let string): return string
        case .bool(let flag): return flag ? "true" : "false"
        case .null, .vector: return "?"
        }
    }

    /// Whether `actual` is an acceptable answer for `expected` under this operation:
    /// exact, floats within 1e-9, approx_distinct within 2% (or 1), quantiles within 1%.
    func accepts(_ actual: FeatureValue, expected: FeatureValue) -> Bool {
        switch (operation, actual, expected) {
        case (.approxDistinct, .int(let estimate), .int(let exact)):
            return abs(Double(estimate - exact)) <= Swift.max(0.02 * Double(exact), 1)
        case (.approxQuantile, .list(let estimates), .list(let exacts)):
            return estimates.count == exacts.count && zip(estimates, exacts).allSatisfy { estimate, exact in
                guard case .float(let a) = estimate, case .float(let b) = exact else { return false }
                return abs(a - b) <= 0.01 * abs(b) + 1e-12
            }
        default:
            return TestEvents.approximatelyEqual(actual, expected, tolerance: 1e-9)
        }
    }
}
