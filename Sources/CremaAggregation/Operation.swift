/// An aggregation operation with its options, as written in a spec (`op:` and its keys).
public enum Operation: Sendable, Hashable {
    /// Counts events, or the non-null values of `field` when one is given.
    case count
    /// Sums a numeric field.
    case sum
    /// The smallest value of an ordered field.
    case min
    /// The largest value of an ordered field.
    case max
    /// The mean of a numeric field.
    case mean
    /// The population variance of a numeric field.
    case variance
    /// The value of the earliest event, by (event time, arrival order).
    case first
    /// The value of the latest event, by (event time, arrival order).
    case last
    /// The newest `n` values, newest first; with `distinct` each value once, at its newest occurrence.
    case lastN(n: Int, distinct: Bool)
    /// The newest `n` events as objects of the aggregate's fields plus `ts`, newest first.
    case sequence(n: Int)
    /// The `k` most frequent values, counted exactly up to `capacity` distinct values per tile.
    case topK(k: Int, capacity: Int)
    /// value → count, counted exactly up to `capacity` distinct values per tile.
    case histogram(capacity: Int)
    /// HyperLogLog distinct count.
    case approxDistinct
    /// Quantiles with at most 1% relative error.
    case approxQuantile(quantiles: [Double])
    /// Σ 2^(−(t − ts)/halfLife) over events; `halfLife` in milliseconds.
    case decayedCount(halfLife: Int64)
    /// Σ value · 2^(−(t − ts)/halfLife) over events; `halfLife` in milliseconds.
    case decayedSum(halfLife: Int64)

    /// The default number of distinct values counted exactly per tile by top_k and histogram.
    public static let defaultCapacity = 1_000

    /// The operation's name in spec files.
    public var name: String {
        switch self {
        case .count: return "count"
        case .sum: return "sum"
        case .min: return "min"
        case .max: return "max"
        case .mean: return "mean"
        case .variance: return "variance"
        case .first: return "first"
        case .last: return "last"
        case .lastN: return "last_n"
        case .sequence: return "sequence"
        case .topK: return "top_k"
        case .histogram: return "histogram"
        case .approxDistinct: return "approx_distinct"
        case .approxQuantile: return "approx_quantile"
        case .decayedCount: return "decayed_count"
        case .decayedSum: return "decayed_sum"
        }
    }

    /// Whether the operation takes `windows` (last_n, sequence and decayed_* do not).
    public var takesWindows: Bool {
        switch self {
        case .lastN, .sequence, .decayedCount, .decayedSum: return false
        default: return true
        }
    }
}
