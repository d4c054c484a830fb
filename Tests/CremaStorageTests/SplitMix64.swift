/// A small seeded random number generator (SplitMix64), so property tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    /// The generator's state.
    private var state: UInt64

    /// Creates a generator from a seed.
    init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` random bytes.
    mutating func bytes(count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }

    /// A random string of up to `maxCount` characters, mixing ASCII and multi-byte scalars.
    mutating func string(maxCount: Int) -> String {
        let alphabet: [Character] = ["a", "b", "z", "0", "9", "-", "/", " ", "é", "ß", "中", "🙂"]
        let count = Int.random(in: 0...maxCount, using: &self)
        return String((0..<count).map { _ in alphabet.randomElement(using: &self)! })
    }
}
