import CremaAggregation

/// Durations as written in specs: a positive integer and a unit `s`, `m`, `h`, `d` or `w` (`90m`, `7d`).
enum SpecDuration {
    /// Milliseconds per unit.
    private static let units: [Character: Int64] = [
        "s": CremaAggregation.Milliseconds.second, "m": CremaAggregation.Milliseconds.minute,
        "h": CremaAggregation.Milliseconds.hour, "d": CremaAggregation.Milliseconds.day,
        "w": CremaAggregation.Milliseconds.week,
    ]

    /// The duration `text` in milliseconds, or an error at `node` saying what is wrong.
    private static func milliseconds(of text: String, at node: SpecNode) -> Result<Int64, SpecError> {
        let example = "write an integer and a unit s, m, h, d or w, like `90m` or `7d`"
        guard let unitCharacter = text.last, let unit = units[unitCharacter] else {
            if !text.isEmpty, text.allSatisfy(\.isNumber) {
                return .failure(node.error("`\(text)` has no unit; \(example)"))
            }
            if let last = text.last, last.isLetter {
                return .failure(node.error("`\(text)` has an unknown unit `\(last)`; \(example)"))
            }
            return .failure(node.error("`\(text)` is not a duration; \(example)"))
        }
        let digits = text.dropLast()
        if digits.hasPrefix("-") { return .failure(node.error("`\(text)` is negative; durations are positive: \(example)")) }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let count = Int64(digits) else {
            return .failure(node.error("`\(text)` is not a duration; \(example)"))
        }
        guard count > 0 else { return .failure(node.error("`\(text)` is zero; durations are positive: \(example)")) }
        let (milliseconds, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow else { return .failure(node.error("`\(text)` is too long")) }
        return .success(milliseconds)
    }

    /// The duration at `node` in milliseconds, or an error at the node.
    static func milliseconds(at node: SpecNode) -> Result<Int64, SpecError> {
        guard let text = node.scalarText, !node.isNull else {
            return .failure(node.error("expected a duration like `1h` or `7d`, got \(node.kindDescription)"))
        }
        return milliseconds(of: text, at: node)
    }
}

extension SpecDuration {
    /// `ms` in the largest unit that divides it (`1h`, `90m`, `1500ms` is not expressible and
    /// falls back to seconds or milliseconds).
    static func format(_ milliseconds: Int64) -> String {
        for (suffix, unit) in [("w", CremaAggregation.Milliseconds.week), ("d", CremaAggregation.Milliseconds.day),
                               ("h", CremaAggregation.Milliseconds.hour), ("m", CremaAggregation.Milliseconds.minute),
                               ("s", CremaAggregation.Milliseconds.second)]
        where milliseconds % unit == 0 {
            return "\(milliseconds / unit)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}
