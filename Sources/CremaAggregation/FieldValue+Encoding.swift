/// The binary encoding of any field value (a tag byte, then the payload), for sequence entries.
extension FieldValue {
    /// Appends a tag byte (0 null, 1 int, 2 float, 3 string, 4 bool, 5 vector) and the payload.
    ///
    /// - Complexity: O(size of the value).
    func encode(into bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(0)
        case .int(let value): bytes.append(1); value.encode(into: &bytes)
        case .float(let value): bytes.append(2); value.encode(into: &bytes)
        case .string(let value): bytes.append(3); value.encode(into: &bytes)
        case .bool(let value): bytes.append(4); value.encode(into: &bytes)
        case .vector(let value): bytes.append(5); value.encode(into: &bytes)
        }
    }

    /// Reads a value written by `encode(into:)`.
    ///
    /// - Complexity: O(size of the value).
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> FieldValue {
        switch try reader.readByte() {
        case 0: return .null
        case 1: return .int(try Int64.decode(from: &reader))
        case 2: return .float(try Double.decode(from: &reader))
        case 3: return .string(try String.decode(from: &reader))
        case 4: return .bool(try Bool.decode(from: &reader))
        case 5: return .vector(try [Float].decode(from: &reader))
        case let tag: throw AggregationError(.corruptState, "unknown field value tag \(tag)")
        }
    }
}
