/// Reads fixed-width integers, varints and byte runs from a buffer, with a bounds check on
/// every read: malformed input throws `StorageError` with code `.corruption`, never traps.
struct ByteReader {
    /// The bytes being read.
    private let bytes: UnsafeRawBufferPointer
    /// What is being decoded (`"row"`, `"log block"`, …), for error messages.
    private let context: String
    /// The position of the next read.
    private(set) var offset = 0

    /// Creates a reader at the start of `bytes`; `context` names the data in error messages.
    init(_ bytes: UnsafeRawBufferPointer, context: String) {
        self.bytes = bytes
        self.context = context
    }

    /// The number of bytes not yet read.
    var remainingCount: Int { bytes.count - offset }

    /// Whether every byte has been read.
    var isAtEnd: Bool { offset == bytes.count }

    /// A `.corruption` error about the data being read, at the current offset.
    func corruption(_ problem: String) -> StorageError {
        StorageError(.corruption, "\(context): \(problem) at byte \(offset) of \(bytes.count)")
    }

    /// Reads the next `count` bytes without copying them.
    mutating func readBytes(count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remainingCount else {
            throw corruption("\(count) bytes expected, \(remainingCount) left")
        }
        let run = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        offset += count
        return run
    }

    /// Reads one byte.
    mutating func readByte() throws -> UInt8 {
        try readBytes(count: 1)[0]
    }

    /// Reads a little-endian `UInt32`.
    mutating func readUInt32() throws -> UInt32 {
        UInt32(littleEndian: try readBytes(count: 4).loadUnaligned(as: UInt32.self))
    }

    /// Reads a little-endian `UInt64`.
    mutating func readUInt64() throws -> UInt64 {
        UInt64(littleEndian: try readBytes(count: 8).loadUnaligned(as: UInt64.self))
    }

    /// Reads a big-endian `UInt64`.
    mutating func readUInt64BigEndian() throws -> UInt64 {
        UInt64(bigEndian: try readBytes(count: 8).loadUnaligned(as: UInt64.self))
    }

    /// Reads a little-endian `Int64`.
    mutating func readInt64() throws -> Int64 {
        Int64(bitPattern: try readUInt64())
    }

    /// Reads an unsigned LEB128 varint, rejecting overlong (non-minimal) and overflowing forms,
    /// so every value has exactly one encoding.
    mutating func readVarint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            let payload = UInt64(byte & 0x7F)
            guard shift < 64, shift != 63 || payload <= 1 else { throw corruption("varint overflows 64 bits") }
            value |= payload << shift
            if byte & 0x80 == 0 {
                guard byte != 0 || shift == 0 else { throw corruption("overlong varint") }
                return value
            }
            shift += 7
        }
    }

    /// Reads a varint length no larger than what is left, then that many bytes.
    mutating func readLengthPrefixedBytes() throws -> UnsafeRawBufferPointer {
        let length = try readVarint()
        guard length <= UInt64(remainingCount) else {
            throw corruption("length \(length) exceeds the \(remainingCount) bytes left")
        }
        return try readBytes(count: Int(length))
    }

    /// Reads a varint length, then that many bytes as a valid UTF-8 string.
    mutating func readString() throws -> String {
        let utf8 = try readLengthPrefixedBytes()
        guard let string = String(validating: utf8, as: UTF8.self) else { throw corruption("invalid UTF-8") }
        return string
    }
}
