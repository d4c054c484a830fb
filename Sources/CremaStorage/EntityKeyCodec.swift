/// The canonical bytes of an entity key, as used after the group id in `rows` keys.
///
/// Each part is a type tag followed by its value, so the encoding is unambiguous (an int and
/// the string of its digits differ, and part boundaries are explicit) and canonical (one
/// encoding per key, decoding rejects any other):
/// ```
/// 0x01 ‖ u64 big endian of (value XOR 1 << 63)    int: byte order = numeric order
/// 0x02 ‖ varint length ‖ UTF-8                    string
/// ```
public enum EntityKeyCodec {
    /// The tag of an integer part.
    private static let intTag: UInt8 = 0x01
    /// The tag of a string part.
    private static let stringTag: UInt8 = 0x02

    /// Encodes the parts of an entity key.
    ///
    /// - Complexity: O(n) in the total size of the parts.
    public static func encode(_ parts: [EntityKeyPart]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parts.reduce(0) { count, part in
            switch part {
            case .int: count + 9
            case .string(let string): count + 11 + string.utf8.count
            }
        })
        append(parts, to: &bytes)
        return bytes
    }

    /// Appends the encoding of the parts of an entity key to `bytes`.
    ///
    /// - Complexity: O(n) in the total size of the parts.
    public static func append(_ parts: [EntityKeyPart], to bytes: inout [UInt8]) {
        for part in parts {
            append(part, to: &bytes)
        }
    }

    /// Appends the encoding of one part of an entity key to `bytes`.
    ///
    /// - Complexity: O(n) in the size of the part.
    public static func append(_ part: EntityKeyPart, to bytes: inout [UInt8]) {
        switch part {
        case .int(let value):
            bytes.append(intTag)
            bytes.appendUInt64BigEndian(UInt64(bitPattern: value) ^ (1 << 63))
        case .string(var string):
            bytes.append(stringTag)
            // Through a buffer: one copy, not byte by byte through the UTF-8 view.
            string.withUTF8 { bytes.appendLengthPrefixed($0) }
        }
    }

    /// The size of the encoding of a string part of `utf8Count` UTF-8 bytes.
    public static func stringPartSize(utf8Count: Int) -> Int {
        var size = 2
        var rest = UInt64(utf8Count)
        while rest >= 0x80 {
            size += 1
            rest >>= 7
        }
        return size + utf8Count
    }

    /// Writes the encoding of the string part whose UTF-8 is `utf8` to `destination`, which has
    /// room for `stringPartSize(utf8Count: utf8.count)` bytes, as `append(_:to:)` would.
    /// - Returns: The bytes written.
    @discardableResult
    public static func writeStringPart(_ utf8: UnsafeRawBufferPointer, to destination: UnsafeMutableRawPointer) -> Int {
        destination.storeBytes(of: stringTag, as: UInt8.self)
        var written = 1
        var rest = UInt64(utf8.count)
        while rest >= 0x80 {
            destination.storeBytes(of: UInt8(truncatingIfNeeded: rest) | 0x80, toByteOffset: written, as: UInt8.self)
            written += 1
            rest >>= 7
        }
        destination.storeBytes(of: UInt8(rest), toByteOffset: written, as: UInt8.self)
        written += 1
        if let source = utf8.baseAddress { (destination + written).copyMemory(from: source, byteCount: utf8.count) }
        return written + utf8.count
    }

    /// Decodes bytes made by `encode`.
    ///
    /// - Complexity: O(n).
    /// - Throws: `StorageError` (`.corruption`) for an unknown tag, a truncated part,
    ///   a non-canonical length or invalid UTF-8.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> [EntityKeyPart] {
        var reader = ByteReader(bytes, context: "entity key")
        var parts: [EntityKeyPart] = []
        while !reader.isAtEnd {
            switch try reader.readByte() {
            case intTag:
                parts.append(.int(Int64(bitPattern: try reader.readUInt64BigEndian() ^ (1 << 63))))
            case stringTag:
                parts.append(.string(try reader.readString()))
            case let tag:
                throw reader.corruption("unknown part tag \(tag)")
            }
        }
        return parts
    }

    /// Decodes bytes made by `encode`.
    ///
    /// - Complexity: O(n).
    /// - Throws: `StorageError` (`.corruption`) for malformed bytes.
    public static func decode(_ bytes: [UInt8]) throws -> [EntityKeyPart] {
        try bytes.withUnsafeBytes { try decode($0) }
    }
}
