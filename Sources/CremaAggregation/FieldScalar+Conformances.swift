/// An `int` field value.
extension Int64: OrderedFieldScalar, SummableScalar {
    /// The int payload of `value`, nil otherwise.
    static func extract(_ value: FieldValue) -> Int64? {
        if case .int(let payload) = value { return payload }
        return nil
    }

    /// `.int(self)`.
    var featureValue: FeatureValue { .int(self) }

    /// A zigzag varint.
    func encode(into bytes: inout [UInt8]) { bytes.appendZigzag(self) }

    /// Reads a zigzag varint.
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> Int64 { try reader.readZigzag() }

    /// Numeric order.
    static func precedes(_ lhs: Int64, _ rhs: Int64) -> Bool { lhs < rhs }

    /// The mixed bit pattern.
    var stableHash: UInt64 { StableHash.mix(UInt64(bitPattern: self)) }

    /// Decimal digits.
    var histogramKey: String { String(self) }

    /// Wrapping addition.
    static func accumulate(_ value: Int64, into sum: inout Int64) { sum &+= value }
}

/// A `float` field value.
extension Double: OrderedFieldScalar, SummableScalar {
    /// The float payload of `value`, nil otherwise.
    static func extract(_ value: FieldValue) -> Double? {
        if case .float(let payload) = value { return payload }
        return nil
    }

    /// `.float(self)`.
    var featureValue: FeatureValue { .float(self) }

    /// Eight little-endian bytes.
    func encode(into bytes: inout [UInt8]) { bytes.appendDouble(self) }

    /// Reads eight little-endian bytes.
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> Double { try reader.readDouble() }

    /// Numeric order.
    static func precedes(_ lhs: Double, _ rhs: Double) -> Bool { lhs < rhs }

    /// The mixed bit pattern, with −0 hashed as +0 (they are equal).
    var stableHash: UInt64 { StableHash.mix((self == 0 ? 0 : self).bitPattern) }

    /// Swift's shortest round-tripping spelling (`1.5`, `1e+20`).
    var histogramKey: String { String(self) }

    /// Floating-point addition.
    static func accumulate(_ value: Double, into sum: inout Double) { sum += value }
}

/// A `string` field value.
extension String: OrderedFieldScalar {
    /// The string payload of `value`, nil otherwise.
    static func extract(_ value: FieldValue) -> String? {
        if case .string(let payload) = value { return payload }
        return nil
    }

    /// `.string(self)`.
    var featureValue: FeatureValue { .string(self) }

    /// A length-prefixed UTF-8 string.
    func encode(into bytes: inout [UInt8]) { bytes.appendString(self) }

    /// Reads a length-prefixed UTF-8 string.
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> String { try reader.readString() }

    /// Lexicographic order of the UTF-8 bytes.
    ///
    /// - Complexity: O(length of the common prefix).
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        // Native strings (all that events decode to) compare their bytes in place, 8 at a time.
        let compared = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in bytesPrecede(UnsafeRawBufferPointer(left), UnsafeRawBufferPointer(right)) }
        }
        return (compared ?? nil) ?? lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    /// FNV-1a of the UTF-8 bytes, mixed.
    ///
    /// - Complexity: O(length).
    var stableHash: UInt64 { StableHash.hash(bytes: utf8) }

    /// The string itself.
    var histogramKey: String { self }
}

/// A `bool` field value.
extension Bool: OrderedFieldScalar {
    /// The bool payload of `value`, nil otherwise.
    static func extract(_ value: FieldValue) -> Bool? {
        if case .bool(let payload) = value { return payload }
        return nil
    }

    /// `.bool(self)`.
    var featureValue: FeatureValue { .bool(self) }

    /// One byte, 0 or 1.
    func encode(into bytes: inout [UInt8]) { bytes.append(self ? 1 : 0) }

    /// Reads one byte, 0 or 1.
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> Bool {
        switch try reader.readByte() {
        case 0: return false
        case 1: return true
        case let byte: throw AggregationError(.corruptState, "bool byte \(byte) is neither 0 nor 1")
        }
    }

    /// false before true.
    static func precedes(_ lhs: Bool, _ rhs: Bool) -> Bool { !lhs && rhs }

    /// The mixed 0 or 1.
    var stableHash: UInt64 { StableHash.mix(self ? 1 : 0) }

    /// `true` or `false`.
    var histogramKey: String { self ? "true" : "false" }
}

/// A `vector[N]` field value (an embedding): first, last and last_n keep it whole.
extension Array: FieldScalar where Element == Float {
    /// The vector payload of `value`, nil otherwise.
    static func extract(_ value: FieldValue) -> [Float]? {
        if case .vector(let payload) = value { return payload }
        return nil
    }

    /// `.vector(self)`.
    var featureValue: FeatureValue { .vector(self) }

    /// A varint dimension and four little-endian bytes per element.
    ///
    /// - Complexity: O(dimension).
    func encode(into bytes: inout [UInt8]) {
        bytes.appendVarint(UInt64(count))
        for element in self { bytes.appendFloat(element) }
    }

    /// Reads a vector written by `encode(into:)`.
    ///
    /// - Complexity: O(dimension).
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> [Float] {
        let dimension = try reader.readCount(minimumBytesPerElement: 4)
        var vector: [Float] = []
        vector.reserveCapacity(dimension)
        for _ in 0..<dimension { vector.append(try reader.readFloat()) }
        return vector
    }
}

/// Whether `lhs` comes before `rhs` in lexicographic byte order, comparing 8 bytes at a time.
///
/// - Complexity: O(length of the common prefix).
private func bytesPrecede(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
    let common = min(lhs.count, rhs.count)
    var offset = 0
    while offset + 8 <= common {
        let left = UInt64(bigEndian: lhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        let right = UInt64(bigEndian: rhs.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        if left != right { return left < right }
        offset += 8
    }
    while offset < common {
        if lhs[offset] != rhs[offset] { return lhs[offset] < rhs[offset] }
        offset += 1
    }
    return lhs.count < rhs.count
}
