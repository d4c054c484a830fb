/// One token of a `where` expression, with its offset (in Unicode scalars) in the expression text.
struct ExpressionToken: Equatable {
    /// What the token is.
    enum Kind: Equatable {
        /// A name: a field or one of the words `and`, `or`, `not`, `in`, `true`, `false`, `null`.
        case word(String)
        /// A number as written (`42`, `-1.5`, `1e3`).
        case number(String)
        /// A quoted string, without its quotes and with escapes resolved.
        case string(String)
        /// An operator or punctuation: `==`, `!=`, `<`, `<=`, `>`, `>=`, `(`, `)`, `[`, `]`, `,`.
        case symbol(String)
        /// The end of the expression.
        case end
    }

    /// What the token is.
    let kind: Kind
    /// Where the token starts in the expression text.
    let offset: Int

    /// The token as the user wrote it, for error messages.
    var display: String {
        switch kind {
        case .word(let text), .number(let text), .symbol(let text): return "`\(text)`"
        case .string(let text): return "the string '\(text)'"
        case .end: return "the end of the expression"
        }
    }
}

/// A located problem in a `where` expression.
struct ExpressionError: Error {
    /// Where the problem is, in Unicode scalars from the start of the expression.
    let offset: Int
    /// What is wrong and what to do.
    let message: String
}

/// Splits a `where` expression into tokens.
enum ExpressionLexer {
    /// The tokens of `text`, ending with `.end`.
    static func tokens(of text: String) -> Result<[ExpressionToken], ExpressionError> {
        let scalars = Array(text.unicodeScalars)
        var tokens: [ExpressionToken] = []
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            let start = index
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                index += 1
            } else if isWordStart(scalar) {
                while index < scalars.count, isWordPart(scalars[index]) { index += 1 }
                tokens.append(ExpressionToken(kind: .word(String(String.UnicodeScalarView(scalars[start..<index]))), offset: start))
            } else if isDigit(scalar) || (scalar == "-" && index + 1 < scalars.count && (isDigit(scalars[index + 1]) || scalars[index + 1] == ".")) || scalar == "." {
                index += 1
                while index < scalars.count, isNumberPart(scalars[index], previous: scalars[index - 1]) { index += 1 }
                tokens.append(ExpressionToken(kind: .number(String(String.UnicodeScalarView(scalars[start..<index]))), offset: start))
            } else if scalar == "'" || scalar == "\"" {
                switch quotedString(scalars, from: index) {
                case .success(let (value, next)):
                    tokens.append(ExpressionToken(kind: .string(value), offset: start))
                    index = next
                case .failure(let error):
                    return .failure(error)
                }
            } else if let symbol = symbol(scalars, at: index) {
                tokens.append(ExpressionToken(kind: .symbol(symbol), offset: start))
                index += symbol.unicodeScalars.count
            } else {
                let hint = scalar == "=" ? "; compare with `==`" : scalar == "&" || scalar == "|" || scalar == "!" ? "; use `and`, `or`, `not`" : ""
                return .failure(ExpressionError(offset: start, message: "unexpected character `\(scalar)`\(hint)"))
            }
        }
        tokens.append(ExpressionToken(kind: .end, offset: scalars.count))
        return .success(tokens)
    }

    /// The operator or punctuation at `index`, longest first.
    private static func symbol(_ scalars: [Unicode.Scalar], at index: Int) -> String? {
        if index + 1 < scalars.count {
            let pair = String(scalars[index]) + String(scalars[index + 1])
            if ["==", "!=", "<=", ">="].contains(pair) { return pair }
        }
        let single = String(scalars[index])
        return ["<", ">", "(", ")", "[", "]", ","].contains(single) ? single : nil
    }

    /// A quoted string starting at `start` (its quote) and the index after its closing quote.
    /// A backslash escapes the next character.
    private static func quotedString(_ scalars: [Unicode.Scalar], from start: Int) -> Result<(String, Int), ExpressionError> {
        let quote = scalars[start]
        var value = String.UnicodeScalarView()
        var index = start + 1
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == quote { return .success((String(value), index + 1)) }
            if scalar == "\\", index + 1 < scalars.count {
                index += 1
            }
            value.append(scalars[index])
            index += 1
        }
        return .failure(ExpressionError(offset: start, message: "unterminated string: add the closing \(quote)"))
    }

    /// Whether a scalar can start a name.
    private static func isWordStart(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
    }

    /// Whether a scalar can continue a name.
    private static func isWordPart(_ scalar: Unicode.Scalar) -> Bool { isWordStart(scalar) || isDigit(scalar) }

    /// Whether a scalar is an ASCII digit.
    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    /// Whether a scalar continues a number (digits, a point, an exponent and its sign).
    private static func isNumberPart(_ scalar: Unicode.Scalar, previous: Unicode.Scalar) -> Bool {
        isDigit(scalar) || scalar == "." || scalar == "e" || scalar == "E"
            || ((scalar == "+" || scalar == "-") && (previous == "e" || previous == "E"))
    }
}
