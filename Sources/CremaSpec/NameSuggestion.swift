/// "Did you mean …?" hints for misspelled keys, ops, fields, entities and events.
enum NameSuggestion {
    /// The candidate closest to `name` by edit distance, when it is close enough to be a typo.
    static func closest(to name: String, in candidates: [String]) -> String? {
        let limit = max(2, name.count / 3)
        let scored = candidates.map { ($0, editDistance(name.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= limit else { return nil }
        return best.0
    }

    /// `; did you mean `x`?` or an empty string.
    static func hint(for name: String, in candidates: [String]) -> String {
        closest(to: name, in: candidates).map { "; did you mean `\($0)`?" } ?? ""
    }

    /// The candidates as a readable list: `a`, `b`, `c`.
    static func list(_ candidates: [String]) -> String {
        candidates.map { "`\($0)`" }.joined(separator: ", ")
    }

    /// Levenshtein distance between two strings.
    /// - Complexity: O(m·n) for strings of m and n characters.
    static func editDistance(_ left: String, _ right: String) -> Int {
        let left = Array(left), right = Array(right)
        guard !left.isEmpty else { return right.count }
        guard !right.isEmpty else { return left.count }
        var previous = Array(0...right.count)
        var current = [Int](repeating: 0, count: right.count + 1)
        for i in 1...left.count {
            current[0] = i
            for j in 1...right.count {
                let substitution = previous[j - 1] + (left[i - 1] == right[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[right.count]
    }
}
