import CremaAggregation

extension Predicate {
    /// Whether an event with these field values (indexed like the event's fields) passes.
    ///
    /// `== null` and `!= null` test for a null field; any other comparison with a null field is
    /// false. Ints and floats compare numerically, strings by their UTF-8 bytes, and false < true.
    public func evaluate(_ fields: [FieldValue]) -> Bool {
        switch self {
        case .compare(let field, let comparison, let literal):
            let value = fields[field]
            if literal.isNull {
                switch comparison {
                case .equal: return value.isNull
                case .notEqual: return !value.isNull
                default: return false
                }
            }
            guard let order = Predicate.order(value, literal) else { return false }
            switch comparison {
            case .equal: return order == 0
            case .notEqual: return order != 0
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            }
        case .isIn(let field, let literals):
            let value = fields[field]
            return literals.contains { Predicate.order(value, $0) == 0 }
        case .isTrue(let field):
            return fields[field] == .bool(true)
        case .not(let inner):
            return !inner.evaluate(fields)
        case .and(let left, let right):
            return left.evaluate(fields) && right.evaluate(fields)
        case .or(let left, let right):
            return left.evaluate(fields) || right.evaluate(fields)
        }
    }

    /// -1, 0 or 1 as `value` orders before, with or after `literal`; nil when they do not compare
    /// (a null, or values of different kinds).
    private static func order(_ value: FieldValue, _ literal: FieldValue) -> Int? {
        switch (value, literal) {
        case (.int(let left), .int(let right)):
            return left < right ? -1 : (left == right ? 0 : 1)
        case (.string(let left), .string(let right)):
            if left.utf8.elementsEqual(right.utf8) { return 0 }
            return left.utf8.lexicographicallyPrecedes(right.utf8) ? -1 : 1
        case (.bool(let left), .bool(let right)):
            return left == right ? 0 : (left ? 1 : -1)
        default:
            guard let left = value.numericValue, let right = literal.numericValue, !left.isNaN, !right.isNaN else { return nil }
            return left < right ? -1 : (left == right ? 0 : 1)
        }
    }
}
