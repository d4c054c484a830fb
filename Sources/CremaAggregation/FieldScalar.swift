/// A Swift type holding the values of one field type, so kernels can keep typed states
/// (an int min is an `Int64?`, not a `FieldValue`).
protocol FieldScalar: Hashable, Sendable {
    /// The value of a field of this type; nil when it is null.
    static func extract(_ value: FieldValue) -> Self?
    /// The value as a read returns it.
    var featureValue: FeatureValue { get }
    /// Appends the value's binary encoding.
    func encode(into bytes: inout [UInt8])
    /// Reads a value written by `encode(into:)`.
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> Self
}

/// A field scalar that min, max, top_k, histogram and approx_distinct accept: ordered,
/// with a process-independent hash and a histogram key.
protocol OrderedFieldScalar: FieldScalar {
    /// Whether `lhs` orders before `rhs`: numbers numerically, strings by UTF-8 bytes, false before true.
    static func precedes(_ lhs: Self, _ rhs: Self) -> Bool
    /// A hash equal in every process (for HyperLogLog).
    var stableHash: UInt64 { get }
    /// The value as a histogram key: ints in decimal, bools `true`/`false`, strings as is.
    var histogramKey: String { get }
}

/// A field scalar that sum accumulates: int sums wrap, float sums round.
protocol SummableScalar: FieldScalar {
    /// The sum of nothing.
    static var zero: Self { get }
    /// Adds `value` to `sum` (wrapping for ints).
    static func accumulate(_ value: Self, into sum: inout Self)
}
