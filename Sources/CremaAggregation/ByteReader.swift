/// Reads the binary encodings of aggregate states from a borrowed buffer.
///
/// The counterpart of the `[UInt8]` writing helpers in `Array+ByteWriting.swift`:
/// LEB128 varints, zigzag varints, little-endian fixed-width integers and floats,
/// and length-prefixed UTF-8 strings. A reader never outlives the buffer it reads.
struct ByteReader {
    /// The bytes being read.
    private let buffer: UnsafeRawBufferPointer
    /// The offset of the next unread byte.
    private(set) var offset: Int = 0

    /// Creates a reader at the start of `buffer`.
    init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
    }

    /// Whether every byte has been read.
    var isAtEnd: Bool { offset == buffer.count }

    /// The number of unread bytes.
    var remaining: Int { buffer.count - offset }

    /// Reads one byte.
    mutating func readByte() throws(AggregationError) -> UInt8 {
        guard offset < buffer.count else { throw Self.truncated }
        let byte = buffer[offset]
        offset += 1
        return byte
    }

    /// Reads an unsigned LEB128 varint of at most ten bytes.
    mutating func readVarint() throws(AggregationError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw AggregationError(.corruptState, "varint longer than 10 bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// Reads a zigzag-encoded signed varint.
    mutating func readZigzag() throws(AggregationError) -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads a varint element count, rejecting one larger than the unread bytes could hold
    /// at `minimumBytesPerElement` bytes each (so corrupt input cannot force a huge allocation).
    mutating func readCount(minimumBytesPerElement: Int = 1) throws(AggregationError) -> Int {
        let raw = try readVarint()
        guard raw <= UInt64(remaining / max(minimumBytesPerElement, 1)) else {
            throw AggregationError(.corruptState, "element count \(raw) exceeds the \(remaining) bytes left")
        }
        return Int(raw)
    }

    /// Reads a little-endian 64-bit unsigned integer.
    mutating func readFixed64() throws(AggregationError) -> UInt64 {
        guard remaining >= 8 else { throw Self.truncated }
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) {
            value |= UInt64(buffer[offset]) << UInt64(shift)
            offset += 1
        }
        return value
    }

    /// Reads a little-endian 32-bit unsigned integer.
    mutating func readFixed32() throws(AggregationError) -> UInt32 {
        guard remaining >= 4 else { throw Self.truncated }
        var value: UInt32 = 0
        for shift in stride(from: 0, to: 32, by: 8) {
            value |= UInt32(buffer[offset]) << UInt32(shift)
            offset += 1
        }
        return value
    }

    /// Reads a little-endian IEEE 754 double.
    mutating func readDouble() throws(AggregationError) -> Double {
        Double(bitPattern: try readFixed64())
    }

    /// Reads a little-endian IEEE 754 single-precision float.
    mutating func readFloat() throws(AggregationError) -> Float {
        Float(bitPattern: try readFixed32())
    }

    /// Reads a varint length followed by that many UTF-8 bytes.
    ///
    /// - Complexity: O(length).
    mutating func readString() throws(AggregationError) -> String {
        let length = try readCount()
        let slice = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])
        offset += length
        return String(decoding: slice, as: UTF8.self)
    }

    /// The error for input that ends in the middle of a value.
    private static var truncated: AggregationError {
        AggregationError(.corruptState, "encoded state ends in the middle of a value")
    }
}
