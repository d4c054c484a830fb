/// Strings in one buffer, their UTF-8 one after another: the text ids of a read, which it
/// encodes as keys straight from the bytes, with no `String` per id. A collection of the
/// strings (each made when asked for).
public struct PackedTexts: Sendable, Equatable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// The strings' UTF-8, one after another.
    private var utf8: [UInt8] = []
    /// Where each string ends in `utf8`.
    private var ends: [Int] = []

    /// No strings.
    public init() {}

    /// The strings whose UTF-8, one after another, is `utf8`, each ending where `ends` says.
    /// - Precondition: `ends` is ascending and its last element is `utf8.count`.
    /// - Throws: `InvalidUTF8` naming the first string that is not valid UTF-8.
    /// - Complexity: O(utf8), eight ASCII bytes at a time.
    public init(utf8: [UInt8], ends: [Int]) throws(InvalidUTF8) {
        precondition(ends.last ?? 0 == utf8.count, "the last string must end where the bytes do")
        self.utf8 = utf8
        self.ends = ends
        let invalid: Int? = utf8.withUnsafeBytes { bytes in
            // The strings are valid when their concatenation is and no string starts inside
            // a sequence (with a continuation byte); only then is each checked alone.
            let isValid = firstInvalidUTF8Offset(in: bytes) == nil
                && ends.dropLast().allSatisfy { $0 == bytes.count || bytes[$0] & 0xC0 != 0x80 }
            if isValid { return nil }
            return ends.indices.first { firstInvalidUTF8Offset(in: UnsafeRawBufferPointer(rebasing: bytes[range(at: $0)])) != nil }
        }
        if let invalid { throw InvalidUTF8(position: invalid) }
    }

    /// A string that is not valid UTF-8.
    public struct InvalidUTF8: Error {
        /// The string's position.
        public let position: Int
    }

    /// `texts`, in order.
    public init(_ texts: some Sequence<String>) {
        for text in texts { append(text) }
    }

    /// `elements`, in order.
    public init(arrayLiteral elements: String...) {
        self.init(elements)
    }

    /// Appends `text`.
    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { utf8.append(contentsOf: $0) }
        ends.append(utf8.count)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    /// The string at `position`.
    public subscript(position: Int) -> String {
        utf8.withUnsafeBytes { String(decoding: $0[range(at: position)], as: UTF8.self) }
    }

    /// Calls `body` with the UTF-8 of every string, one after another, and where each ends.
    func withUTF8<Result>(_ body: (_ utf8: UnsafeRawBufferPointer, _ ends: UnsafeBufferPointer<Int>) -> Result) -> Result {
        utf8.withUnsafeBytes { utf8 in ends.withUnsafeBufferPointer { ends in body(utf8, ends) } }
    }

    private func range(at position: Int) -> Range<Int> {
        (position == 0 ? 0 : ends[position - 1])..<ends[position]
    }
}
