import CremaAggregation

/// What an operation accepts in a spec: its input, its options and the field types it works on.
struct AggregateRule {
    /// How an operation takes its input field.
    enum Input {
        /// `field` may be given (count: counts non-null values) or left out.
        case optionalField
        /// `field` must be given.
        case field
        /// `fields` (a list) must be given (sequence).
        case fields
        /// No field (decayed_count).
        case none
    }

    /// The op name in specs.
    let name: String
    /// How the op takes its input.
    let input: Input
    /// Options beyond `op`, the input key and `where`, that the op accepts.
    let options: Set<String>
    /// Options the op requires.
    let requiredOptions: [String]
    /// Whether the op takes `windows` (and so `hop`).
    let takesWindows: Bool
    /// Which field types the op accepts, described for error messages.
    let acceptedTypes: String
    /// Whether the op accepts a field of the type.
    let accepts: @Sendable (FieldType) -> Bool

    /// Every option key an aggregate may have, in the order the docs list them.
    static let allKeys = ["op", "field", "fields", "windows", "hop", "n", "distinct", "k", "capacity", "quantiles", "half_life", "where"]

    /// The rules by op name, in the order the docs list the ops.
    static let all: [AggregateRule] = {
        let any: @Sendable (FieldType) -> Bool = { _ in true }
        let numeric: @Sendable (FieldType) -> Bool = { $0.isNumeric }
        let ordered: @Sendable (FieldType) -> Bool = { $0.isOrdered }
        let scalar: @Sendable (FieldType) -> Bool = { if case .vector = $0 { return false } else { return true } }
        let numbers = "int or float fields"
        let scalars = "string, int, float or bool fields"
        let windowed: Set<String> = ["windows", "hop"]
        return [
            AggregateRule(name: "count", input: .optionalField, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: "any field", accepts: any),
            AggregateRule(name: "sum", input: .field, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: numbers, accepts: numeric),
            AggregateRule(name: "min", input: .field, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: scalars, accepts: ordered),
            AggregateRule(name: "max", input: .field, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: scalars, accepts: ordered),
            AggregateRule(name: "mean", input: .field, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: numbers, accepts: numeric),
            AggregateRule(name: "variance", input: .field, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: numbers, accepts: numeric),
            AggregateRule(name: "first", input: .field, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: "any field", accepts: any),
            AggregateRule(name: "last", input: .field, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: "any field", accepts: any),
            AggregateRule(name: "last_n", input: .field, options: ["n", "distinct"], requiredOptions: ["n"], takesWindows: false, acceptedTypes: "any field", accepts: any),
            AggregateRule(name: "sequence", input: .fields, options: ["n"], requiredOptions: ["n"], takesWindows: false, acceptedTypes: "any field", accepts: any),
            AggregateRule(name: "top_k", input: .field, options: windowed.union(["k", "capacity"]), requiredOptions: ["k"], takesWindows: true, acceptedTypes: scalars, accepts: scalar),
            AggregateRule(name: "histogram", input: .field, options: windowed.union(["capacity"]), requiredOptions: [], takesWindows: true, acceptedTypes: scalars, accepts: scalar),
            AggregateRule(name: "approx_distinct", input: .field, options: windowed, requiredOptions: [], takesWindows: true, acceptedTypes: scalars, accepts: scalar),
            AggregateRule(name: "approx_quantile", input: .field, options: windowed.union(["quantiles"]), requiredOptions: ["quantiles"], takesWindows: true, acceptedTypes: numbers, accepts: numeric),
            AggregateRule(name: "decayed_count", input: .none, options: ["half_life"], requiredOptions: ["half_life"], takesWindows: false, acceptedTypes: "no field", accepts: any),
            AggregateRule(name: "decayed_sum", input: .field, options: ["half_life"], requiredOptions: ["half_life"], takesWindows: false, acceptedTypes: numbers, accepts: numeric),
        ]
    }()

    /// The rule for an op name.
    static func named(_ name: String) -> AggregateRule? { all.first { $0.name == name } }

    /// The keys this op accepts.
    var acceptedKeys: Set<String> {
        var keys = options.union(["op", "where"])
        switch input {
        case .optionalField, .field: keys.insert("field")
        case .fields: keys.insert("fields")
        case .none: break
        }
        return keys
    }
}
