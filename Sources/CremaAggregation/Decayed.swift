#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// decayed_count and decayed_sum: Σ w · 2^(−(t − ts)/half_life) over every accepted event,
/// with w = 1 for a count and the field's value for a sum, a float. An event after the read
/// time weighs more than 1. Empty: 0.
struct DecayedKernel: AggregationKernel {
    /// The decayed total referenced to a time: the sum at `reference` is `value`.
    struct State: Sendable, Equatable {
        /// The decayed total as of `reference`.
        var value: Double
        /// The time `value` is referenced to (the newest event time seen); `Int64.min` when empty.
        var reference: Int64
    }

    /// The half-life in milliseconds.
    let halfLife: Int64
    /// The weighting field for a sum (or the counted field), nil to count every event.
    let field: Int?
    /// Whether the field's value weighs each event (decayed_sum) rather than 1.
    let weighsByValue: Bool

    /// Zero, referenced to no time.
    var empty: State { State(value: 0, reference: .min) }

    /// The event's weight: 1, or the field's value; nil when the field is null.
    @inline(__always)
    func input(from fields: [FieldValue]) -> Double? {
        guard let field else { return 1 }
        if weighsByValue { return fields[field].numericValue }
        return fields[field].isNull ? nil : 1
    }

    /// Moves the reference forward to the event time if it is newer, then adds the weight decayed to the reference.
    @inline(__always)
    func add(_ input: Double, time: Int64, arrival: UInt64, to state: inout State) {
        rebase(&state, to: time)
        state.value += time == state.reference ? input : input * decay(over: state.reference - time)
    }

    /// Rebases both to the newer reference and adds them.
    @inline(__always)
    func merge(_ other: State, into state: inout State) {
        var other = other
        let reference = Swift.max(state.reference, other.reference)
        rebase(&other, to: reference)
        rebase(&state, to: reference)
        state.value += other.value
    }

    /// value · 2^(−(t − reference)/half_life).
    func result(of state: State, at time: Int64) -> FeatureValue {
        guard state.value != 0 else { return .float(0) }
        return .float(state.value * decay(over: time - state.reference))
    }

    /// The value as a double and the reference as a zigzag varint.
    func encode(_ state: State, into bytes: inout [UInt8]) {
        bytes.appendDouble(state.value)
        bytes.appendZigzag(state.reference)
    }

    /// Reads what `encode` wrote.
    func decode(from reader: inout ByteReader) throws(AggregationError) -> State {
        State(value: try reader.readDouble(), reference: try reader.readZigzag())
    }

    /// Moves `state`'s reference forward to `reference`, decaying its value.
    @inline(__always)
    private func rebase(_ state: inout State, to reference: Int64) {
        guard state.reference < reference else { return }
        if state.value != 0 { state.value *= decay(over: reference - state.reference) }
        state.reference = reference
    }

    /// 2^(−elapsed/half_life); above 1 for a negative elapsed time.
    @inline(__always)
    private func decay(over elapsed: Int64) -> Double {
        exp2(-Double(elapsed) / Double(halfLife))
    }
}
