/// A parsed `where` expression before its names are resolved against an event.
indirect enum ExpressionSyntax: Equatable {
    /// A literal as written, with its offset.
    struct Literal: Equatable {
        /// The literal's value.
        enum Value: Equatable {
            /// A number as written; `isInteger` when it has no fraction or exponent.
            case number(Double, text: String, isInteger: Bool)
            /// A quoted string.
            case string(String)
            /// `true` or `false`.
            case bool(Bool)
            /// `null`.
            case null
        }

        /// The literal's value.
        let value: Value
        /// Where it starts in the expression.
        let offset: Int
    }

    /// A field name with its offset.
    struct FieldReference: Equatable {
        /// The field name.
        let name: String
        /// Where it starts in the expression.
        let offset: Int
    }

    /// `field OP literal`.
    case compare(FieldReference, Predicate.Comparison, Literal)
    /// `field in [literal, …]`.
    case isIn(FieldReference, [Literal])
    /// A field on its own.
    case field(FieldReference)
    /// `not e`.
    case not(ExpressionSyntax)
    /// `a and b`.
    case and(ExpressionSyntax, ExpressionSyntax)
    /// `a or b`.
    case or(ExpressionSyntax, ExpressionSyntax)
}

/// A recursive-descent parser for `where` expressions.
///
/// Grammar (precedence not > and > or):
/// ```
/// or      := and ("or" and)*
/// and     := not ("and" not)*
/// not     := "not" not | primary
/// primary := "(" or ")" | FIELD [ OP literal | "in" "[" literal ("," literal)* "]" ]
/// ```
struct ExpressionParser {
    /// Words that cannot name a field.
    static let keywords: Set<String> = ["and", "or", "not", "in", "true", "false", "null"]

    /// The tokens, ending with `.end`.
    private let tokens: [ExpressionToken]
    /// The index of the next token.
    private var position = 0

    /// Parses `text` into an expression syntax tree.
    static func parse(_ text: String) -> Result<ExpressionSyntax, ExpressionError> {
        ExpressionLexer.tokens(of: text).flatMap { tokens in
            var parser = ExpressionParser(tokens: tokens)
            do throws(ExpressionError) {
                return .success(try parser.parseExpression())
            } catch {
                return .failure(error)
            }
        }
    }

    /// Creates a parser over `tokens`.
    private init(tokens: [ExpressionToken]) {
        self.tokens = tokens
    }

    /// The next token.
    private var current: ExpressionToken { tokens[position] }

    /// Parses the whole expression and checks nothing follows it.
    private mutating func parseExpression() throws(ExpressionError) -> ExpressionSyntax {
        if current.kind == .end { throw ExpressionError(offset: 0, message: "empty expression; write a condition like `watch_ms > 0`") }
        let expression = try parseOr()
        guard current.kind == .end else {
            throw ExpressionError(offset: current.offset, message: "unexpected \(current.display); join conditions with `and` or `or`")
        }
        return expression
    }

    /// `and ("or" and)*`.
    private mutating func parseOr() throws(ExpressionError) -> ExpressionSyntax {
        var left = try parseAnd()
        while current.kind == .word("or") {
            position += 1
            left = .or(left, try parseAnd())
        }
        return left
    }

    /// `not ("and" not)*`.
    private mutating func parseAnd() throws(ExpressionError) -> ExpressionSyntax {
        var left = try parseNot()
        while current.kind == .word("and") {
            position += 1
            left = .and(left, try parseNot())
        }
        return left
    }

    /// `"not" not | primary`.
    private mutating func parseNot() throws(ExpressionError) -> ExpressionSyntax {
        if current.kind == .word("not") {
            position += 1
            return .not(try parseNot())
        }
        return try parsePrimary()
    }

    /// A parenthesized expression or a condition on one field.
    private mutating func parsePrimary() throws(ExpressionError) -> ExpressionSyntax {
        let token = current
        switch token.kind {
        case .symbol("("):
            position += 1
            let inner = try parseOr()
            guard current.kind == .symbol(")") else {
                throw ExpressionError(offset: current.offset, message: "expected `)` to close the `(`, found \(current.display)")
            }
            position += 1
            return inner
        case .word(let name) where !Self.keywords.contains(name):
            position += 1
            return try parseCondition(on: ExpressionSyntax.FieldReference(name: name, offset: token.offset))
        case .number, .string, .word("true"), .word("false"), .word("null"):
            throw ExpressionError(offset: token.offset, message: "expected a field name, found \(token.display); write the field first, like `watch_ms > 0`")
        default:
            throw ExpressionError(offset: token.offset, message: "expected a field name or `(`, found \(token.display)")
        }
    }

    /// What follows a field: a comparison, `in [..]`, or nothing (a bool field on its own).
    private mutating func parseCondition(on field: ExpressionSyntax.FieldReference) throws(ExpressionError) -> ExpressionSyntax {
        switch current.kind {
        case .symbol(let symbol):
            guard let comparison = Predicate.Comparison(rawValue: symbol) else { return .field(field) }
            position += 1
            return .compare(field, comparison, try parseLiteral())
        case .word("in"):
            position += 1
            guard current.kind == .symbol("[") else {
                throw ExpressionError(offset: current.offset, message: "expected `[` after `in`, like `country in ['US', 'CA']`")
            }
            position += 1
            var literals: [ExpressionSyntax.Literal] = []
            if current.kind == .symbol("]") {
                throw ExpressionError(offset: current.offset, message: "empty list after `in`; list at least one value")
            }
            while true {
                literals.append(try parseLiteral())
                if current.kind == .symbol(",") { position += 1; continue }
                guard current.kind == .symbol("]") else {
                    throw ExpressionError(offset: current.offset, message: "expected `,` or `]` in the list, found \(current.display)")
                }
                position += 1
                return .isIn(field, literals)
            }
        default:
            return .field(field)
        }
    }

    /// A number, a quoted string, `true`, `false` or `null`.
    private mutating func parseLiteral() throws(ExpressionError) -> ExpressionSyntax.Literal {
        let token = current
        let value: ExpressionSyntax.Literal.Value
        switch token.kind {
        case .number(let text):
            guard let number = Double(text), number.isFinite else {
                throw ExpressionError(offset: token.offset, message: "`\(text)` is not a number")
            }
            let isInteger = Int64(text) != nil
            value = .number(number, text: text, isInteger: isInteger)
        case .string(let text): value = .string(text)
        case .word("true"): value = .bool(true)
        case .word("false"): value = .bool(false)
        case .word("null"): value = .null
        case .word(let name):
            throw ExpressionError(offset: token.offset, message: "expected a value, found the name `\(name)`; quote strings, like '\(name)' (fields compare with values, not with other fields)")
        default:
            throw ExpressionError(offset: token.offset, message: "expected a value (a number, a quoted string, true, false or null), found \(token.display)")
        }
        position += 1
        return ExpressionSyntax.Literal(value: value, offset: token.offset)
    }
}
