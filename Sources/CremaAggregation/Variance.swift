/// variance: the population variance of a numeric field, a float. Empty: null.
///
/// Welford's update on add and Chan et al.'s pairwise combination on merge, so tiles
/// merge without the cancellation of a sum-of-squares formula.
struct VarianceKernel: AggregationKernel {
    /// A count, a mean and the sum of squared deviations from the mean. The count sits between
    /// the two doubles: side by side, the compiler adds both in one packed `addpd` when merging
    /// tiles, which chains each merge's mean behind the longer squared-deviation arithmetic
    /// (a 7-day read of 169 tiles took twice as long).
    struct State: Sendable, Equatable {
        /// Their mean.
        var mean: Double
        /// The number of values.
        var count: Int64
        /// The sum of squared deviations from `mean`.
        var squaredDeviations: Double

        init(count: Int64, mean: Double, squaredDeviations: Double) {
            self.mean = mean
            self.count = count
            self.squaredDeviations = squaredDeviations
        }
    }

    /// The field's index.
    let field: Int

    /// No values.
    var empty: State { State(count: 0, mean: 0, squaredDeviations: 0) }

    /// The field's value as a double, nil when null.
    @inline(__always)
    func input(from fields: [FieldValue]) -> Double? { fields[field].numericValue }

    /// Welford's update.
    @inline(__always)
    func add(_ input: Double, time: Int64, arrival: UInt64, to state: inout State) {
        state.count &+= 1
        let delta = input - state.mean
        state.mean += delta / Double(state.count)
        state.squaredDeviations += delta * (input - state.mean)
    }

    /// Chan et al.'s combination of two partial states.
    @inline(__always)
    func merge(_ other: State, into state: inout State) {
        guard other.count != 0 else { return }
        guard state.count != 0 else {
            state = other
            return
        }
        let count = state.count + other.count
        let delta = other.mean - state.mean
        let weight = Double(other.count) / Double(count)
        state.mean += delta * weight
        state.squaredDeviations += other.squaredDeviations + delta * delta * Double(state.count) * weight
        state.count = count
    }

    /// squaredDeviations / count, or null.
    func result(of state: State, at time: Int64) -> FeatureValue {
        state.count == 0 ? .null : .float(Swift.max(0, state.squaredDeviations / Double(state.count)))
    }

    /// A varint count, then the mean and squared deviations as doubles.
    func encode(_ state: State, into bytes: inout [UInt8]) {
        bytes.appendVarint(UInt64(bitPattern: state.count))
        bytes.appendDouble(state.mean)
        bytes.appendDouble(state.squaredDeviations)
    }

    /// Reads what `encode` wrote.
    func decode(from reader: inout ByteReader) throws(AggregationError) -> State {
        State(
            count: Int64(bitPattern: try reader.readVarint()),
            mean: try reader.readDouble(),
            squaredDeviations: try reader.readDouble()
        )
    }
}
