import CremaEngine
import NIOCore
import SwiftProtobuf

/// Writes a `GetResponse` straight into the gRPC length-prefixed message that is sent.
///
/// A packed scalar column (int64, float64 and bool layouts of a ``ScalarColumn``) is written
/// field by field, its values copied once, from the read's payloads into the outgoing buffer,
/// rather than into a `Data` and then into a serialized message; every other column is
/// encoded by ``ColumnEncoder`` and serialized by swift-protobuf. The bytes are those
/// swift-protobuf writes for the same message: fields in number order, proto3 defaults
/// (empty strings and bytes, zero numbers) left out.
struct GetResponseWriter {
    /// One column, sized, ready to be written.
    private enum Part {
        /// A packed scalar column: written field by field.
        case scalars(name: String, dtype: Crema_V1_DType, column: ScalarColumn, valueWidth: Int, bodySize: Int)
        /// Any other column, serialized.
        case serialized([UInt8])

        /// The column message's size.
        var bodySize: Int {
            switch self {
            case .scalars(_, _, _, _, let size): size
            case .serialized(let bytes): bytes.count
            }
        }
    }

    // Field tags (number << 3 | wire type) of GetResponse and Column.
    private static let columnsTag: UInt8 = 2 << 3 | 2
    private static let broadcastTag: UInt8 = 3 << 3 | 2
    private static let nameTag: UInt8 = 1 << 3 | 2
    private static let dtypeTag: UInt8 = 2 << 3 | 0
    private static let lengthTag: UInt8 = 3 << 3 | 0
    private static let validityTag: UInt8 = 4 << 3 | 2
    private static let valuesTag: UInt8 = 5 << 3 | 2

    /// The serialized `ids` field (echoed ids).
    private var idsField: [UInt8] = []
    private var columns: [Part] = []
    private var broadcast: [Part] = []

    /// An empty response.
    init() {}

    /// Echoes `ids` (the request's `ids`).
    /// - Throws: swift-protobuf's encoding error.
    mutating func setIDs(_ ids: [Crema_V1_EntityId]) throws {
        idsField = ids.isEmpty ? [] : try Crema_V1_GetResponse.with { $0.ids = ids }.serializedBytes()
    }

    /// Adds a candidates' column.
    mutating func appendColumn(name: String, layout: ColumnLayout, column: FeatureColumn) throws {
        columns.append(try Self.part(name: name, layout: layout, column: column))
    }

    /// Adds a broadcast column.
    mutating func appendBroadcast(name: String, layout: ColumnLayout, column: FeatureColumn) throws {
        broadcast.append(try Self.part(name: name, layout: layout, column: column))
    }

    /// The gRPC message: a 5-byte prefix (not compressed, length) and the serialized response.
    func message() -> ByteBuffer {
        func fieldSize(_ part: Part) -> Int { 1 + Self.varintSize(part.bodySize) + part.bodySize }
        let size = idsField.count + columns.reduce(0) { $0 + fieldSize($1) } + broadcast.reduce(0) { $0 + fieldSize($1) }
        var buffer = ByteBufferAllocator().buffer(capacity: 5 + size)
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(size))
        buffer.writeBytes(idsField)
        for part in columns { Self.write(part, tag: Self.columnsTag, to: &buffer) }
        for part in broadcast { Self.write(part, tag: Self.broadcastTag, to: &buffer) }
        return buffer
    }

    private static func part(name: String, layout: ColumnLayout, column: FeatureColumn) throws -> Part {
        if case .scalars(let scalars) = column, let valueWidth = packedWidth(of: scalars.kind, as: layout) {
            let count = scalars.payloads.count
            var size = (name.isEmpty ? 0 : lengthDelimitedSize(name.utf8.count)) + 1 + varintSize(Int(layout.dtype.rawValue))
            if count > 0 { size += 1 + varintSize(count) + lengthDelimitedSize(count * valueWidth) }
            if scalars.nullCount > 0 { size += lengthDelimitedSize((count + 7) / 8) }
            return .scalars(name: name, dtype: layout.dtype, column: scalars, valueWidth: valueWidth, bodySize: size)
        }
        return .serialized(try ColumnEncoder.encode(name: name, layout: layout, values: column.values).serializedBytes())
    }

    /// The bytes a value of `kind` takes in a packed column of `layout`, when its payloads are
    /// written as they are; nil otherwise.
    private static func packedWidth(of kind: ScalarKind, as layout: ColumnLayout) -> Int? {
        switch (kind, layout) {
        case (.int, .int64), (.float, .float64):
            #if _endian(little)
            return 8
            #else
            return nil
            #endif
        case (.bool, .bool):
            return 1
        default:
            return nil
        }
    }

    private static func write(_ part: Part, tag: UInt8, to buffer: inout ByteBuffer) {
        buffer.writeInteger(tag)
        writeVarint(part.bodySize, to: &buffer)
        switch part {
        case .serialized(let bytes):
            buffer.writeBytes(bytes)
        case .scalars(let name, let dtype, let column, let valueWidth, _):
            let count = column.payloads.count
            if !name.isEmpty {
                buffer.writeInteger(nameTag)
                writeVarint(name.utf8.count, to: &buffer)
                buffer.writeString(name)
            }
            buffer.writeInteger(dtypeTag)
            writeVarint(Int(dtype.rawValue), to: &buffer)
            guard count > 0 else { return }
            buffer.writeInteger(lengthTag)
            writeVarint(count, to: &buffer)
            if column.nullCount > 0 {
                buffer.writeInteger(validityTag)
                writeVarint((count + 7) / 8, to: &buffer)
                writeBitmap(column.isPresent, to: &buffer)
            }
            buffer.writeInteger(valuesTag)
            writeVarint(count * valueWidth, to: &buffer)
            if valueWidth == 8 {
                column.payloads.withUnsafeBytes { _ = buffer.writeBytes($0) }
            } else {
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
                    for row in 0..<count { bytes[row] = UInt8(truncatingIfNeeded: column.payloads[row]) }
                    return count
                }
            }
        }
    }

    /// The LSB-first bitmap of `isPresent`, eight rows a byte, without a branch per row.
    private static func writeBitmap(_ isPresent: [Bool], to buffer: inout ByteBuffer) {
        let size = (isPresent.count + 7) / 8
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { bytes in
            isPresent.withUnsafeBufferPointer { rows in
                let whole = rows.count / 8
                let flags = UnsafeRawBufferPointer(rows)
                for byte in 0..<whole {
                    // Eight flags (bytes of 0 or 1), the first row in the lowest byte: the
                    // multiplication gathers row i's bit at bit 56 + i, with no carries between them.
                    let word = UInt64(littleEndian: flags.loadUnaligned(fromByteOffset: byte * 8, as: UInt64.self))
                    bytes[byte] = UInt8(truncatingIfNeeded: (word &* 0x0102_0408_1020_4080) >> 56)
                }
                if whole < size {
                    var bits: UInt8 = 0
                    for row in (whole * 8)..<rows.count where rows[row] { bits |= 1 << UInt8(row - whole * 8) }
                    bytes[whole] = bits
                }
            }
            return size
        }
    }

    private static func lengthDelimitedSize(_ count: Int) -> Int { 1 + varintSize(count) + count }

    private static func varintSize(_ value: Int) -> Int {
        var size = 1
        var rest = UInt64(value)
        while rest >= 0x80 {
            size += 1
            rest >>= 7
        }
        return size
    }

    private static func writeVarint(_ value: Int, to buffer: inout ByteBuffer) {
        var rest = UInt64(value)
        while rest >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        buffer.writeInteger(UInt8(rest))
    }
}
