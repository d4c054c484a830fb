import Testing

@testable import CremaAggregation

@Suite("String order of top_k, histogram, min and max")
struct StringOrderTests {
    /// Strings that share prefixes of every length around the 8-byte steps, with bytes above
    /// 0x7F (multi-byte characters), empty ones and long ones.
    private func randomStrings(_ count: Int, seed: UInt64) -> [String] {
        var random = SplitMix64(seed: seed)
        let pieces = ["", "a", "b", "video_", "é", "日本", "\u{7F}", "zzzzzzzz", "0123456789abcdef"]
        return (0..<count).map { _ in
            (0..<Int(random.next() % 6)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined()
        }
    }

    @Test("precedes agrees with the lexicographic order of the UTF-8 bytes", arguments: [1, 2, 3] as [UInt64])
    func agreesWithUTF8Order(seed: UInt64) {
        let strings = randomStrings(300, seed: seed)
        for lhs in strings {
            for rhs in strings.prefix(60) {
                #expect(String.precedes(lhs, rhs) == lhs.utf8.lexicographicallyPrecedes(rhs.utf8), "\(lhs) vs \(rhs)")
            }
        }
    }
}
