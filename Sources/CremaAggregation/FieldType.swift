/// The type of an event field, as declared in a spec's `fields`.
public enum FieldType: Sendable, Hashable, CustomStringConvertible {
    /// A UTF-8 string.
    case string
    /// A signed 64-bit integer.
    case int
    /// A 64-bit float.
    case float
    /// A Boolean.
    case bool
    /// A fixed-size vector of float32 values (an embedding).
    case vector(dimension: Int)

    /// Whether sums, means, variances and quantiles accept the type.
    public var isNumeric: Bool { self == .int || self == .float }

    /// Whether min and max can order values of the type.
    public var isOrdered: Bool {
        switch self {
        case .string, .int, .float, .bool: return true
        case .vector: return false
        }
    }

    /// The spelling used in spec files: `string`, `int`, `float`, `bool`, `vector[N]`.
    public var description: String {
        switch self {
        case .string: return "string"
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .vector(let dimension): return "vector[\(dimension)]"
        }
    }
}
