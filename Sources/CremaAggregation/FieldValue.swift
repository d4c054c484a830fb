/// One decoded event field value, already checked against its `FieldType`.
public enum FieldValue: Sendable, Hashable {
    /// A missing or null optional field.
    case null
    /// An `int` field.
    case int(Int64)
    /// A `float` field.
    case float(Double)
    /// A `string` field.
    case string(String)
    /// A `bool` field.
    case bool(Bool)
    /// A `vector[N]` field.
    case vector([Float])

    /// Whether the value is null.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as a double, for numeric fields; nil otherwise.
    public var numericValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .float(let value): return value
        default: return nil
        }
    }

    /// The value as a feature value of the same type.
    public var featureValue: FeatureValue {
        switch self {
        case .null: return .null
        case .int(let value): return .int(value)
        case .float(let value): return .float(value)
        case .string(let value): return .string(value)
        case .bool(let value): return .bool(value)
        case .vector(let value): return .vector(value)
        }
    }
}
