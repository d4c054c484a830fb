/// Writing helpers for the binary encodings of aggregate states, read back by `ByteReader`.
extension Array where Element == UInt8 {
    /// Appends an unsigned LEB128 varint (1 to 10 bytes).
    mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        append(UInt8(rest))
    }

    /// Appends a signed integer as a zigzag varint (small magnitudes take few bytes).
    mutating func appendZigzag(_ value: Int64) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// Appends a little-endian 64-bit unsigned integer.
    mutating func appendFixed64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) {
            append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// Appends a little-endian 32-bit unsigned integer.
    mutating func appendFixed32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) {
            append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    /// Appends a little-endian IEEE 754 double.
    mutating func appendDouble(_ value: Double) {
        appendFixed64(value.bitPattern)
    }

    /// Appends a little-endian IEEE 754 single-precision float.
    mutating func appendFloat(_ value: Float) {
        appendFixed32(value.bitPattern)
    }

    /// Appends a varint length and the string's UTF-8 bytes.
    ///
    /// - Complexity: O(length).
    mutating func appendString(_ value: String) {
        appendVarint(UInt64(value.utf8.count))
        append(contentsOf: value.utf8)
    }
}
