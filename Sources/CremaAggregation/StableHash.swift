/// A 64-bit hash that is the same in every process (Swift's `Hasher` is seeded per process),
/// so HyperLogLog registers written by one server merge with those written by another.
enum StableHash {
    /// SplitMix64's finalizer: spreads every input bit over every output bit.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a over the bytes, then `mix`.
    ///
    /// - Complexity: O(n) in the number of bytes.
    static func hash<Bytes: Swift.Sequence>(bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var state: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return mix(state)
    }
}
