/// What a read returns for one feature of one entity (DESIGN.md, "Values a read returns").
public enum FeatureValue: Sendable, Equatable {
    /// Absent: no row, or an empty window of an op whose empty value is null.
    case null
    /// An integer (count, int sum, approx_distinct, int min/max/first/last).
    case int(Int64)
    /// A float (mean, variance, decayed_*, float sum, float min/max/first/last).
    case float(Double)
    /// A string value of a string field.
    case string(String)
    /// A Boolean value of a bool field.
    case bool(Bool)
    /// A vector (embedding) value.
    case vector([Float])
    /// A list: last_n values, sequence objects, top_k entries, quantiles.
    case list([FeatureValue])
    /// An object with ordered members: a histogram, a sequence element, a top_k entry.
    case object([Member])

    /// One member of an object value.
    public struct Member: Sendable, Equatable {
        /// The member's name.
        public var key: String
        /// The member's value.
        public var value: FeatureValue

        /// Creates a member.
        public init(_ key: String, _ value: FeatureValue) {
            self.key = key
            self.value = value
        }
    }
}
