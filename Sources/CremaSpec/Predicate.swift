import CremaAggregation

/// A compiled `where` expression over the fields of one event type.
///
/// Field references are resolved to indices at compile time; evaluation does no lookups.
public indirect enum Predicate: Sendable, Hashable {
    /// `field OP literal`; any comparison other than `==`/`!=` with a null operand is false.
    case compare(field: Int, Comparison, FieldValue)
    /// `field in [a, b, …]`.
    case isIn(field: Int, [FieldValue])
    /// A bool field used on its own (`where: liked`).
    case isTrue(field: Int)
    /// `not expression`.
    case not(Predicate)
    /// `a and b`.
    case and(Predicate, Predicate)
    /// `a or b`.
    case or(Predicate, Predicate)

    /// A comparison operator.
    public enum Comparison: String, Sendable, Hashable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }
}
