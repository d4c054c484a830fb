import CremaAggregation

/// Turns a `where` expression into a `Predicate` over one event's fields, checking names and types.
enum PredicateCompiler {
    /// The compiled predicate and a canonical text of it (with field names, for stable ids);
    /// nil after appending every problem found, located inside the expression, to `problems`.
    static func compile(_ node: SpecNode, event: EventSchema, problems: inout [SpecError]) -> (predicate: Predicate, canonical: String)? {
        guard let text = node.scalarText, !node.isNull else {
            problems.append(node.error("expected a condition like `watch_ms > 0`, got \(node.kindDescription)"))
            return nil
        }
        switch ExpressionParser.parse(text) {
        case .failure(let error):
            problems.append(node.error(atOffset: error.offset, "invalid `where` expression: \(error.message)"))
            return nil
        case .success(let syntax):
            var errors: [ExpressionError] = []
            let predicate = resolve(syntax, event: event, errors: &errors)
            guard errors.isEmpty, let predicate else {
                problems += errors.map { node.error(atOffset: $0.offset, $0.message) }
                return nil
            }
            return (predicate, canonical(syntax))
        }
    }

    /// Resolves names to field indices and checks literal types; appends problems to `errors`.
    private static func resolve(_ syntax: ExpressionSyntax, event: EventSchema, errors: inout [ExpressionError]) -> Predicate? {
        switch syntax {
        case .not(let inner):
            return resolve(inner, event: event, errors: &errors).map { .not($0) }
        case .and(let left, let right):
            let resolvedLeft = resolve(left, event: event, errors: &errors)
            let resolvedRight = resolve(right, event: event, errors: &errors)
            guard let resolvedLeft, let resolvedRight else { return nil }
            return .and(resolvedLeft, resolvedRight)
        case .or(let left, let right):
            let resolvedLeft = resolve(left, event: event, errors: &errors)
            let resolvedRight = resolve(right, event: event, errors: &errors)
            guard let resolvedLeft, let resolvedRight else { return nil }
            return .or(resolvedLeft, resolvedRight)
        case .field(let reference):
            guard let (index, field) = lookUp(reference, event: event, errors: &errors) else { return nil }
            guard field.type == .bool else {
                errors.append(ExpressionError(offset: reference.offset, message: "`\(field.name)` is \(field.type), not bool; only a bool field stands alone: compare it, like `\(field.name) \(field.type == .string ? "== 'x'" : "> 0")`"))
                return nil
            }
            return .isTrue(field: index)
        case .compare(let reference, let comparison, let literal):
            guard let (index, field) = lookUp(reference, event: event, errors: &errors) else { return nil }
            if literal.value == .null {
                guard comparison == .equal || comparison == .notEqual else {
                    errors.append(ExpressionError(offset: literal.offset, message: "`null` compares only with `==` or `!=`"))
                    return nil
                }
                return .compare(field: index, comparison, .null)
            }
            if case .vector = field.type {
                errors.append(ExpressionError(offset: reference.offset, message: "`\(field.name)` is a vector; vectors compare only with `== null` or `!= null`"))
                return nil
            }
            guard let value = value(of: literal, for: field, errors: &errors) else { return nil }
            return .compare(field: index, comparison, value)
        case .isIn(let reference, let literals):
            guard let (index, field) = lookUp(reference, event: event, errors: &errors) else { return nil }
            if case .vector = field.type {
                errors.append(ExpressionError(offset: reference.offset, message: "`\(field.name)` is a vector; `in` takes string, int, float or bool fields"))
                return nil
            }
            var values: [FieldValue] = []
            for literal in literals {
                if literal.value == .null {
                    errors.append(ExpressionError(offset: literal.offset, message: "`null` cannot be in an `in` list; write `\(field.name) == null or \(field.name) in [...]`"))
                } else if let value = value(of: literal, for: field, errors: &errors) {
                    values.append(value)
                }
            }
            return values.count == literals.count ? .isIn(field: index, values) : nil
        }
    }

    /// The field named by `reference`, or an error suggesting the closest field.
    private static func lookUp(_ reference: ExpressionSyntax.FieldReference, event: EventSchema, errors: inout [ExpressionError]) -> (Int, EventField)? {
        guard let index = event.fieldIndex(named: reference.name) else {
            let names = event.fields.map(\.name)
            errors.append(ExpressionError(offset: reference.offset, message: "unknown field `\(reference.name)` in event `\(event.name)`\(NameSuggestion.hint(for: reference.name, in: names)) (fields: \(NameSuggestion.list(names)))"))
            return nil
        }
        return (index, event.fields[index])
    }

    /// The literal as a value comparable with `field`, or a type error.
    private static func value(of literal: ExpressionSyntax.Literal, for field: EventField, errors: inout [ExpressionError]) -> FieldValue? {
        switch (field.type, literal.value) {
        case (.string, .string(let text)): return .string(text)
        case (.int, .number(let number, let text, let isInteger)), (.float, .number(let number, let text, let isInteger)):
            if isInteger, let integer = Int64(text) { return .int(integer) }
            return .float(number)
        case (.bool, .bool(let flag)): return .bool(flag)
        default:
            let written: String
            switch literal.value {
            case .string(let text): written = "the string '\(text)'"
            case .number(_, let text, _): written = "the number \(text)"
            case .bool(let flag): written = "`\(flag)`"
            case .null: written = "`null`"
            }
            let advice: String
            switch field.type {
            case .string: advice = "quote the value, like '\(literalText(literal.value))'"
            case .int, .float: advice = "compare it with a number"
            case .bool: advice = "compare it with true or false, or use the field alone"
            case .vector: advice = "vectors compare only with null"
            }
            errors.append(ExpressionError(offset: literal.offset, message: "`\(field.name)` is \(field.type) but is compared with \(written); \(advice)"))
            return nil
        }
    }

    /// A literal's text without quotes.
    private static func literalText(_ value: ExpressionSyntax.Literal.Value) -> String {
        switch value {
        case .string(let text): return text
        case .number(_, let text, _): return text
        case .bool(let flag): return String(flag)
        case .null: return "null"
        }
    }

    /// A canonical, fully parenthesized text of the expression (spacing and quoting normalized).
    static func canonical(_ syntax: ExpressionSyntax) -> String {
        func literal(_ literal: ExpressionSyntax.Literal) -> String {
            switch literal.value {
            case .string(let text): return "\"" + text.replacingBackslashesAndQuotes() + "\""
            case .number(let number, let text, let isInteger): return isInteger ? text : "\(number)"
            case .bool(let flag): return String(flag)
            case .null: return "null"
            }
        }
        switch syntax {
        case .compare(let field, let comparison, let value): return "(\(field.name) \(comparison.rawValue) \(literal(value)))"
        case .isIn(let field, let values): return "(\(field.name) in [\(values.map(literal).joined(separator: ","))])"
        case .field(let field): return field.name
        case .not(let inner): return "(not \(canonical(inner)))"
        case .and(let left, let right): return "(\(canonical(left)) and \(canonical(right)))"
        case .or(let left, let right): return "(\(canonical(left)) or \(canonical(right)))"
        }
    }
}

extension String {
    /// The string with `\` and `"` escaped by a backslash.
    fileprivate func replacingBackslashesAndQuotes() -> String {
        var result = ""
        for character in self {
            if character == "\\" || character == "\"" { result.append("\\") }
            result.append(character)
        }
        return result
    }
}
