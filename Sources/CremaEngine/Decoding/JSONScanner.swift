/// A forward-only JSON tokenizer over the bytes of one line, with no allocation for
/// keys, numbers or strings without escapes.
///
/// The bytes must already be valid UTF-8 (see `firstInvalidUTF8Offset(in:)`); the scanner
/// checks JSON syntax only. Positions in error messages are 1-based byte offsets.
package struct JSONScanner {
    /// The most deeply nested containers `skipValue()` accepts.
    package static let maximumDepth = 64

    /// The line being scanned.
    package let bytes: UnsafeRawBufferPointer
    /// The offset of the next byte to read.
    package var position = 0

    /// A scanned string: the bytes between its quotes, still escaped.
    package struct StringToken {
        /// Offset of the first byte after the opening quote.
        package var start: Int
        /// Offset of the closing quote.
        package var end: Int
        /// Whether the string contains backslash escapes.
        package var hasEscapes: Bool
    }

    /// A scanned number token.
    package struct NumberToken {
        /// Offset of the first byte of the token.
        package var start: Int
        /// Offset just past the token.
        package var end: Int
        /// Whether the token has neither a fraction nor an exponent.
        package var isInteger: Bool
    }

    /// Creates a scanner at the start of `bytes`.
    package init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Whether only whitespace remains.
    package mutating func isAtEndAfterWhitespace() -> Bool {
        skipWhitespace()
        return position == bytes.count
    }

    /// Skips JSON whitespace (space, tab, CR, LF).
    package mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// The next byte after whitespace, without consuming it; nil at the end.
    package mutating func peekAfterWhitespace() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// Consumes `byte` (after whitespace) if it is next.
    package mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        if position < bytes.count, bytes[position] == byte {
            position += 1
            return true
        }
        return false
    }

    /// Consumes `byte` (after whitespace) or throws a syntax error naming `expectation`.
    package mutating func expect(_ byte: UInt8, _ expectation: StaticString) throws(EventDecodingError) {
        guard consume(byte) else { throw syntaxError("expected \(expectation)") }
    }

    /// A syntax error at the current position.
    package func syntaxError(_ detail: String) -> EventDecodingError {
        if position >= bytes.count {
            return EventDecodingError(code: .malformedJSON, message: "invalid JSON: unexpected end of line, \(detail)")
        }
        return EventDecodingError(code: .malformedJSON, message: "invalid JSON at byte \(position + 1): \(detail)")
    }

    /// Scans a string starting at the opening quote (after whitespace), validating its escapes.
    package mutating func scanString() throws(EventDecodingError) -> StringToken {
        guard consume(UInt8(ascii: "\"")) else { throw syntaxError("expected a string") }
        let start = position
        var hasEscapes = false
        skipPlainStringBytes()
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let token = StringToken(start: start, end: position, hasEscapes: hasEscapes)
                position += 1
                return token
            }
            if byte < 0x20 {
                throw syntaxError("control character in string")
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape()
            } else {
                position += 1
            }
        }
        throw syntaxError("unterminated string")
    }

    /// Moves past string bytes that need no attention (not `"`, `\\` or a control character),
    /// eight at a time while eight remain: most keys and values end within the first word.
    @inline(__always)
    private mutating func skipPlainStringBytes() {
        guard let base = bytes.baseAddress else { return }
        while position + 8 <= bytes.count {
            let word = UInt64(littleEndian: (base + position).loadUnaligned(as: UInt64.self))
            let special = Self.zeroBytes(word ^ 0x2222_2222_2222_2222) | Self.zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C)
                | Self.bytesBelow0x20(word)
            if special != 0 {
                position += special.trailingZeroBitCount / 8
                return
            }
            position += 8
        }
    }

    /// The high bit of each byte of `word` that is zero (exact for the lowest such byte; a
    /// borrow can mark bytes above it).
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
    }

    /// The high bit of each byte of `word` below 0x20 (exact for the lowest such byte).
    @inline(__always)
    private static func bytesBelow0x20(_ word: UInt64) -> UInt64 {
        (word &- 0x2020_2020_2020_2020) & ~word & 0x8080_8080_8080_8080
    }

    /// Validates one escape sequence at `position` (the backslash) and moves past it.
    private mutating func scanEscape() throws(EventDecodingError) {
        guard position + 1 < bytes.count else { position = bytes.count; throw syntaxError("unterminated string") }
        switch bytes[position + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 2
        case UInt8(ascii: "u"):
            guard let unit = hexQuad(at: position + 2) else { throw syntaxError("invalid \\u escape") }
            if (0xDC00...0xDFFF).contains(unit) { throw syntaxError("unpaired surrogate in \\u escape") }
            if (0xD800...0xDBFF).contains(unit) {
                guard position + 12 <= bytes.count, bytes[position + 6] == UInt8(ascii: "\\"),
                      bytes[position + 7] == UInt8(ascii: "u"),
                      let low = hexQuad(at: position + 8), (0xDC00...0xDFFF).contains(low)
                else { throw syntaxError("unpaired surrogate in \\u escape") }
                position += 12
            } else {
                position += 6
            }
        default:
            throw syntaxError("invalid escape in string")
        }
    }

    /// The value of four hex digits at `offset`, or nil.
    private func hexQuad(at offset: Int) -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for index in offset..<offset + 4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The raw (still escaped) bytes of a string token.
    package func rawBytes(of token: StringToken) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.end])
    }

    /// Appends the unescaped UTF-8 bytes of a (validated) string token to `output`.
    package func appendUnescaped(_ token: StringToken, to output: inout [UInt8]) {
        var index = token.start
        while index < token.end {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let escaped = bytes[index + 1]
            switch escaped {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hexQuad(at: index + 2)!
                index += 6
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = hexQuad(at: index + 2)!
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                output.append(contentsOf: Unicode.UTF8.encode(Unicode.Scalar(scalar)!)!)
                continue
            default: output.append(escaped)
            }
            index += 2
        }
    }

    /// The decoded value of a (validated) string token.
    package func string(_ token: StringToken) -> String {
        if !token.hasEscapes {
            return String(decoding: rawBytes(of: token), as: UTF8.self)
        }
        var output: [UInt8] = []
        output.reserveCapacity(token.end - token.start)
        appendUnescaped(token, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether a string token's decoded value equals `expected` (ASCII, no escapes needed).
    package func string(_ token: StringToken, equals expected: StaticString) -> Bool {
        if token.hasEscapes {
            var output: [UInt8] = []
            appendUnescaped(token, to: &output)
            return output.withUnsafeBytes { equalBytes($0, expected) }
        }
        return equalBytes(rawBytes(of: token), expected)
    }

    private func equalBytes(_ lhs: UnsafeRawBufferPointer, _ rhs: StaticString) -> Bool {
        guard lhs.count == rhs.utf8CodeUnitCount else { return false }
        let other = UnsafeRawBufferPointer(start: rhs.utf8Start, count: rhs.utf8CodeUnitCount)
        for index in 0..<lhs.count where lhs[index] != other[index] { return false }
        return true
    }

    /// Scans a number token (after whitespace) following the JSON grammar.
    package mutating func scanNumber() throws(EventDecodingError) -> NumberToken {
        skipWhitespace()
        let start = position
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, isDigit(bytes[position]) else { throw syntaxError("invalid number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            skipDigits()
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else { throw syntaxError("invalid number") }
            skipDigits()
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else { throw syntaxError("invalid number") }
            skipDigits()
        }
        return NumberToken(start: start, end: position, isInteger: isInteger)
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    private mutating func skipDigits() {
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }

    /// Scans a number (after whitespace) in one pass and returns its value when it is a plain
    /// integer (`-?digits`, at most 18 digits); otherwise returns nil without moving, and the
    /// caller takes `scanNumber()`.
    package mutating func scanPlainInteger() -> Int64? {
        let (isNegative, digitsStart, index, value) = leadingDigits()
        guard hasPlainIntegerPart(digitsStart..<index), index - digitsStart <= 18,
              index == bytes.count || !Self.continuesNumber(bytes[index])
        else { return nil }
        position = index
        return isNegative ? -Int64(value) : Int64(value)
    }

    /// Scans a number (after whitespace) and returns its value as a double, correctly rounded
    /// (±infinity past the range). A plain decimal (`-?digits(.digits)?`, at most 19 digits) is
    /// scanned and converted in one pass, by Clinger's fast path up to 15 digits, else by
    /// Eisel-Lemire; any other goes through `scanNumber()` and `double(_:)`.
    package mutating func scanDouble() throws(EventDecodingError) -> Double {
        var (isNegative, digitsStart, index, mantissa) = leadingDigits()
        let integerDigits = index - digitsStart
        var fractionDigits = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fractionDigits = accumulateDigits(at: &index, into: &mantissa)
            if fractionDigits == 0 { return double(try scanNumber()) }
        }
        guard hasPlainIntegerPart(digitsStart..<(digitsStart + integerDigits)), integerDigits + fractionDigits <= 19,
              index == bytes.count || !Self.continuesNumber(bytes[index])
        else { return double(try scanNumber()) }
        if integerDigits + fractionDigits <= 15 {
            position = index
            return Self.exactDouble(mantissa: mantissa, exponent: -fractionDigits, isNegative: isNegative)
        }
        guard let value = EiselLemire.double(mantissa: mantissa, exponent: -fractionDigits, isNegative: isNegative) else {
            return double(try scanNumber())
        }
        position = index
        return value
    }

    /// After whitespace, without moving: whether a minus sign comes first, where the digits after
    /// it start and end, and their value (wrapping past 19 digits).
    @inline(__always)
    private mutating func leadingDigits() -> (isNegative: Bool, start: Int, end: Int, value: UInt64) {
        skipWhitespace()
        let isNegative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
        var index = isNegative ? position + 1 : position
        let start = index
        var value: UInt64 = 0
        _ = accumulateDigits(at: &index, into: &value)
        return (isNegative, start, index, value)
    }

    /// Whether `digits` is a valid integer part: at least one digit, no leading zero.
    @inline(__always)
    private func hasPlainIntegerPart(_ digits: Range<Int>) -> Bool {
        digits.count == 1 || (digits.count > 1 && bytes[digits.lowerBound] != UInt8(ascii: "0"))
    }

    /// Appends the decimal digits at `index` to `value` (wrapping past 19 digits), moves past
    /// them and returns how many there were.
    @inline(__always)
    private func accumulateDigits(at index: inout Int, into value: inout UInt64) -> Int {
        let start = index
        while index < bytes.count, isDigit(bytes[index]) {
            value = value &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0"))
            index += 1
        }
        return index - start
    }

    /// Whether `byte` after a number's digits would make it more than a plain decimal.
    private static func continuesNumber(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10 || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")
    }

    /// The value of an integer token, or nil when it does not fit in 64 bits.
    package func int64(_ token: NumberToken) -> Int64? {
        var index = token.start
        let isNegative = bytes[index] == UInt8(ascii: "-")
        if isNegative { index += 1 }
        // Accumulate negatively so that Int64.min fits.
        var value: Int64 = 0
        while index < token.end {
            let digit = Int64(bytes[index] - UInt8(ascii: "0"))
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = shifted.subtractingReportingOverflow(digit)
            if overflowA || overflowB { return nil }
            value = next
            index += 1
        }
        if isNegative { return value }
        return value == .min ? nil : -value
    }

    /// The value of a number token as a double (correctly rounded; ±infinity past the range):
    /// by Clinger's fast path, else by Eisel-Lemire, else by the standard library's parser.
    package func double(_ token: NumberToken) -> Double {
        if let decimal = decimal(token) {
            if decimal.digits <= 15, decimal.exponent >= -22, decimal.exponent <= 22 {
                return Self.exactDouble(mantissa: decimal.mantissa, exponent: decimal.exponent, isNegative: decimal.isNegative)
            }
            if let value = EiselLemire.double(mantissa: decimal.mantissa, exponent: decimal.exponent, isNegative: decimal.isNegative) {
                return value
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[token.start..<token.end]), as: UTF8.self)
        return Double(text)!
    }

    /// Clinger's fast path: `mantissa × 10^exponent` with one correctly rounded operation, for a
    /// mantissa below 10^15 and an exponent within ±22 (both exact doubles).
    @inline(__always)
    private static func exactDouble(mantissa: UInt64, exponent: Int, isNegative: Bool) -> Double {
        let value = exponent < 0 ? Double(mantissa) / powersOfTen[-exponent] : Double(mantissa) * powersOfTen[exponent]
        return isNegative ? -value : value
    }

    /// A number token as `mantissa × 10^exponent` with its count of significant digits (leading
    /// zeros do not count); nil past 19 of them (the mantissa would not be exact) or past an
    /// exponent of ±1,000 as written.
    private func decimal(_ token: NumberToken) -> (isNegative: Bool, mantissa: UInt64, digits: Int, exponent: Int)? {
        var index = token.start
        let isNegative = bytes[index] == UInt8(ascii: "-")
        if isNegative { index += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        while index < token.end, isDigit(bytes[index]) {
            let digit = UInt64(bytes[index] &- UInt8(ascii: "0"))
            if digits > 0 || digit != 0 {
                mantissa = mantissa &* 10 &+ digit
                digits += 1
            }
            index += 1
        }
        if index < token.end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < token.end, isDigit(bytes[index]) {
                let digit = UInt64(bytes[index] &- UInt8(ascii: "0"))
                if digits > 0 || digit != 0 {
                    mantissa = mantissa &* 10 &+ digit
                    digits += 1
                }
                exponent -= 1
                index += 1
            }
        }
        if index < token.end {
            index += 1  // e or E
            var exponentIsNegative = false
            if bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                exponentIsNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var written = 0
            while index < token.end {
                written = written * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
                if written > 1000 { return nil }
                index += 1
            }
            exponent += exponentIsNegative ? -written : written
        }
        guard digits <= 19 else { return nil }
        return (isNegative, mantissa, digits, exponent)
    }

    /// 10^0 … 10^22, the powers of ten a double holds exactly; literals, so that the table is
    /// laid out at compile time (a computed one is initialized lazily, checked at each use).
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Consumes `literal` (`true`, `false` or `null`) after whitespace if it is next.
    package mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count,
              equalBytes(UnsafeRawBufferPointer(rebasing: bytes[position..<position + count]), literal)
        else { return false }
        position += count
        return true
    }

    /// Skips one JSON value of any kind, iteratively, failing past `maximumDepth` nested containers.
    package mutating func skipValue() throws(EventDecodingError) {
        var depth = 0
        var objectBits: UInt64 = 0  // bit d set: the container at depth d+1 is an object
        while true {
            // A value is expected here.
            guard let byte = peekAfterWhitespace() else { throw syntaxError("expected a value") }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth < Self.maximumDepth else {
                    throw syntaxError("nested deeper than \(Self.maximumDepth) levels")
                }
                let isObject = byte == UInt8(ascii: "{")
                position += 1
                if isObject { objectBits |= 1 << UInt64(depth) } else { objectBits &= ~(1 << UInt64(depth)) }
                depth += 1
                if consume(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    depth -= 1
                } else {
                    if isObject {
                        _ = try scanString()
                        try expect(UInt8(ascii: ":"), "':'")
                    }
                    continue
                }
            case UInt8(ascii: "\""): _ = try scanString()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
            default:
                guard consumeLiteral("true") || consumeLiteral("false") || consumeLiteral("null") else {
                    throw syntaxError("expected a value")
                }
            }
            // After a value: close containers or move to the next element.
            while depth > 0 {
                let isObject = objectBits & (1 << UInt64(depth - 1)) != 0
                if consume(UInt8(ascii: ",")) {
                    if isObject {
                        _ = try scanString()
                        try expect(UInt8(ascii: ":"), "':'")
                    }
                    break
                }
                guard consume(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                    throw syntaxError(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                }
                depth -= 1
            }
            if depth == 0 { return }
        }
    }

    /// A short rendering of the value starting at `offset`, for error messages:
    /// the JSON text of a scalar (at most 40 bytes), or `an object` / `an array`.
    package func describeValue(at offset: Int) -> String {
        var start = offset
        while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
        guard start < bytes.count else { return "nothing" }
        switch bytes[start] {
        case UInt8(ascii: "{"): return "an object"
        case UInt8(ascii: "["): return "an array"
        default: break
        }
        var end = start
        if bytes[start] == UInt8(ascii: "\"") {
            end += 1
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            end = min(end + 1, bytes.count)
        } else {
            while end < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0D].contains(bytes[end]) {
                end += 1
            }
        }
        let limit = 40
        guard end - start > limit else {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
        var cut = start + limit
        while cut > start, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<cut]), as: UTF8.self) + "…"
    }
}
