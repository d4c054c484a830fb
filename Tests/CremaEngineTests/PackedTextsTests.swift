import CremaStorage
import Testing

@testable import CremaEngine

@Suite("PackedTexts and the keys read from them")
struct PackedTextsTests {
    /// Strings mixing ASCII and multi-byte scalars, some empty, some longer than one varint byte.
    private func randomTexts(count: Int, seed: UInt64) -> [String] {
        var random = LinearCongruentialTexts(seed: seed)
        return (0..<count).map { _ in random.text() }
    }

    @Test("a collection of its strings, equal to the same strings packed any other way")
    func collection() throws {
        let texts = randomTexts(count: 200, seed: 3)
        let packed = PackedTexts(texts)
        #expect(Array(packed) == texts)
        let utf8 = texts.flatMap { Array($0.utf8) }
        var ends: [Int] = []
        for text in texts { ends.append((ends.last ?? 0) + text.utf8.count) }
        #expect(try PackedTexts(utf8: utf8, ends: ends) == packed)
        #expect(PackedTexts() == [])
        #expect(["a", "", "b"] == PackedTexts(["a", "", "b"]))
    }

    @Test("bytes that are not UTF-8 are refused, naming the first bad string", arguments: [
        ([0x61, 0xFF, 0x62], [1, 2, 3], 1),  // a lone 0xFF
        ([0xC3, 0xA9, 0xC3], [2, 3], 1),  // é, then a truncated sequence
        ([0xED, 0xA0, 0x80], [3], 0),  // a UTF-16 surrogate
        ([0xC3, 0xA9], [1, 2], 0),  // é split between two strings: each half is invalid
        ([0x61, 0xC3, 0xA9], [1, 2, 3, 3], 1),  // "a", then é split, then an empty string
    ] as [([UInt8], [Int], Int)])
    func invalidUTF8(utf8: [UInt8], ends: [Int], position: Int) {
        let error = #expect(throws: PackedTexts.InvalidUTF8.self) { try PackedTexts(utf8: utf8, ends: ends) }
        #expect(error?.position == position)
    }

    @Test("keys built from packed texts are the keys appended one by one")
    func keysFromPackedTexts() {
        for seed: UInt64 in 1...20 {
            let texts = randomTexts(count: Int(seed) * 7, seed: seed)
            let packed = KeyBatch(stringKeysOf: PackedTexts(texts))
            var appended = KeyBatch(reservingCapacity: texts.count, bytesPerKey: 8)
            for text in texts { appended.append(.string(text)) }
            #expect(packed.bytes == appended.bytes)
            #expect(packed.ends == appended.ends)
        }
        #expect(KeyBatch(stringKeysOf: []).count == 0)
    }
}

/// Random id-like strings for these tests.
private struct LinearCongruentialTexts {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    private mutating func next(below bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }

    mutating func text() -> String {
        let alphabet: [Character] = ["v", "1", "9", "_", "é", "中", "🙂"]
        let length = next(below: 8) == 0 ? 130 + next(below: 200) : next(below: 12)
        return String((0..<length).map { _ in alphabet[next(below: alphabet.count)] })
    }
}
