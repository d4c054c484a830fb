/// Decimal to double by the Eisel-Lemire algorithm (Lemire, "Number Parsing at a Gigabyte per
/// Second", 2021; as in Go's strconv and Rust's core): `mantissa × 10^exponent`, correctly
/// rounded, from the mantissa times a 128-bit approximation of the power of ten. It covers the
/// numbers Clinger's fast path does not, such as the 16 to 17 digits JSON writers print for a
/// double, and answers nil in the rare cases it cannot decide (a tie halfway between two
/// doubles, subnormal or overflowing results), which take the exact slow path.
enum EiselLemire {
    /// `mantissa × 10^exponent`, negated when `isNegative`, or nil when undecided.
    ///
    /// - Parameter mantissa: The significant digits as an integer (at most 19 digits, so exact).
    /// Out of line, so that the scanner's path for short numbers stays small.
    @inline(never)
    static func double(mantissa: UInt64, exponent: Int, isNegative: Bool) -> Double? {
        if mantissa == 0 { return isNegative ? -0.0 : 0.0 }
        guard exponent >= minimumExponent, exponent <= maximumExponent else { return nil }
        let leadingZeros = mantissa.leadingZeroBitCount
        let normalized = mantissa << UInt64(leadingZeros)
        // 217,706 / 2^16 ≈ log2(10): the binary exponent, biased, before normalizing.
        var binaryExponent = UInt64(bitPattern: Int64(((217_706 &* exponent) >> 16) &+ 64 &+ 1_023)) &- UInt64(leadingZeros)
        let index = 2 &* (exponent &- minimumExponent)
        var (high, low) = normalized.multipliedFullWidth(by: powersOfTen[index])
        // When the bits below the 55 kept may carry, take the power's low word into account.
        if high & 0x1FF == 0x1FF && low &+ normalized < normalized {
            let (wideHigh, wideLow) = normalized.multipliedFullWidth(by: powersOfTen[index &+ 1])
            var mergedHigh = high
            let mergedLow = low &+ wideHigh
            if mergedLow < low { mergedHigh &+= 1 }
            if mergedHigh & 0x1FF == 0x1FF && mergedLow &+ 1 == 0 && wideLow &+ normalized < normalized { return nil }
            high = mergedHigh
            low = mergedLow
        }
        let topBit = high >> 63
        var significand = high >> (topBit &+ 9)
        binaryExponent &-= 1 ^ topBit
        // Exactly halfway between two doubles: the slow path breaks the tie.
        if low == 0 && high & 0x1FF == 0 && significand & 3 == 1 { return nil }
        // From 54 bits to 53, rounding.
        significand &+= significand & 1
        significand >>= 1
        if significand >> 53 > 0 {
            significand >>= 1
            binaryExponent &+= 1
        }
        // A biased exponent of 0 (subnormal, or an underflow that wrapped) or 0x7FF and above.
        if binaryExponent &- 1 >= 0x7FF - 1 { return nil }
        let bits = binaryExponent << 52 | significand & 0x000F_FFFF_FFFF_FFFF | (isNegative ? 1 << 63 : 0)
        return Double(bitPattern: bits)
    }
}
