#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CremaAggregation
import CremaEngine

/// The shape of one feature's gRPC column: the dtype tree of `crema.v1.Column`
/// (Protos/crema/v1/features.proto), derived from the feature's op and field types.
///
/// Every multi-byte number is little-endian, every column may carry a validity bitmap
/// (LSB-first, empty when no row is null), and a null row keeps its place with a
/// zero-width entry. The layouts:
///
/// | feature | layout |
/// |---|---|
/// | count, approx_distinct | `.int64` |
/// | sum | `.int64` for an int field, `.float64` otherwise |
/// | mean, variance, decayed_count, decayed_sum | `.float64` |
/// | min, max, first, last | the field's layout (``init(fieldType:)``) |
/// | last_n | `.list(field layout)`, newest first |
/// | approx_quantile | `.list(.float64)`, one item per quantile |
/// | top_k | `.list(.struct([("value", field layout), ("count", .int64)]))` |
/// | histogram | `.list(.struct([("key", .string), ("count", .int64)]))` |
/// | sequence | `.list(.struct([(field, field layout)…, ("ts", .int64)]))`, newest first |
public indirect enum ColumnLayout: Sendable {
    /// INT64: 8 bytes a row in `values` (numpy `<i8`).
    case int64
    /// FLOAT64: 8 bytes a row in `values` (numpy `<f8`).
    case float64
    /// FLOAT32: 4 bytes a row in `values` (numpy `<f4`); the items of a vector.
    case float32
    /// BOOL: one byte a row in `values`, 0 or 1 (numpy `bool`), not a bitmap.
    case bool
    /// STRING: `length + 1` int32 `offsets` into the concatenated UTF-8 `data`.
    case string
    /// LIST: `length + 1` int32 `offsets` into one child column named `item`, laid out
    /// by the associated layout.
    case list(ColumnLayout)
    /// STRUCT: one child column per member, in order, each of this column's length.
    case `struct`([(name: String, layout: ColumnLayout)])

    /// The layout of a value of an event field: string → `.string`, int → `.int64`,
    /// float → `.float64`, bool → `.bool`, `vector[N]` → `.list(.float32)`.
    public init(fieldType: FieldType) {
        switch fieldType {
        case .string: self = .string
        case .int: self = .int64
        case .float: self = .float64
        case .bool: self = .bool
        case .vector: self = .list(.float32)
        }
    }

    /// The layout of an aggregate's features (every window of an aggregate has the same).
    ///
    /// - Parameters:
    ///   - operation: The aggregate's op.
    ///   - fieldNames: The aggregate's fields, as `AggregateDefinition.fieldNames`: one
    ///     for a `field`, several for a sequence's `fields`, none for count or
    ///     decayed_count without a field.
    ///   - fieldTypes: The types of `fieldNames`, in the same order.
    /// - Precondition: min, max, first, last, last_n, top_k and histogram have one
    ///   field; the spec validator guarantees it.
    public init(operation: Operation, fieldNames: [String], fieldTypes: [FieldType]) {
        switch operation {
        case .count, .approxDistinct:
            self = .int64
        case .sum:
            self = fieldTypes.first == .int ? .int64 : .float64
        case .mean, .variance, .decayedCount, .decayedSum:
            self = .float64
        case .min, .max, .first, .last:
            self = ColumnLayout(fieldType: Self.onlyField(of: operation, in: fieldTypes))
        case .lastN:
            self = .list(ColumnLayout(fieldType: Self.onlyField(of: operation, in: fieldTypes)))
        case .approxQuantile:
            self = .list(.float64)
        case .topK:
            let value = ColumnLayout(fieldType: Self.onlyField(of: operation, in: fieldTypes))
            self = .list(.struct([("value", value), ("count", .int64)]))
        case .histogram:
            self = .list(.struct([("key", .string), ("count", .int64)]))
        case .sequence:
            let members = zip(fieldNames, fieldTypes).map { (name: $0, layout: ColumnLayout(fieldType: $1)) }
            self = .list(.struct(members + [("ts", .int64)]))
        }
    }

    /// The proto dtype of a column of this layout.
    public var dtype: Crema_V1_DType {
        switch self {
        case .int64: return .int64
        case .float64: return .float64
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .list: return .list
        case .struct: return .struct
        }
    }

    private static func onlyField(of operation: Operation, in fieldTypes: [FieldType]) -> FieldType {
        precondition(fieldTypes.count == 1, "\(operation.name) takes exactly one field")
        return fieldTypes[0]
    }
}

extension ColumnLayout: Equatable {
    /// Whether two layouts are the same tree (member names included).
    public static func == (lhs: ColumnLayout, rhs: ColumnLayout) -> Bool {
        switch (lhs, rhs) {
        case (.int64, .int64), (.float64, .float64), (.float32, .float32), (.bool, .bool), (.string, .string):
            return true
        case (.list(let left), .list(let right)):
            return left == right
        case (.struct(let left), .struct(let right)):
            return left.count == right.count
                && zip(left, right).allSatisfy { $0.name == $1.name && $0.layout == $1.layout }
        default:
            return false
        }
    }
}

/// Why a feature column could not be encoded.
public enum ColumnEncodingError: Error, Equatable, CustomStringConvertible {
    /// A value (or a value nested in it) does not fit the layout at that place.
    case typeMismatch(column: String, row: Int, expected: Crema_V1_DType, found: FeatureValue)
    /// The column's strings or list items exceed what int32 offsets address (2 GiB).
    case offsetOverflow(column: String)

    /// A message naming the column and what is wrong.
    public var description: String {
        switch self {
        case .typeMismatch(let column, let row, let expected, let found):
            return "column \(column), row \(row): expected \(expected), found \(found)"
        case .offsetOverflow(let column):
            return "column \(column): offsets exceed the int32 range"
        }
    }
}

/// Writes feature columns into `crema.v1.Column` messages: the packed little-endian
/// bytes, validity bitmaps and int32 offsets described on ``ColumnLayout``, built
/// straight into byte arrays (one `Data` copy per buffer at the end).
///
/// Which values fit which layout (anything else is a ``ColumnEncodingError/typeMismatch(column:row:expected:found:)``):
/// - `.null` fits every layout and makes a null row (validity bit clear).
/// - `.int64` takes `.int`; `.float64` and `.float32` take `.float`; `.bool` takes
///   `.bool`; `.string` takes `.string`.
/// - `.list(item)` takes `.list` (each element laid out by `item`), `.vector` when `item`
///   is `.float32`, and `.object` when `item` is a two-member struct whose first member
///   is `.string`: each member becomes one entry `{key, value}` (a histogram).
/// - `.struct(members)` takes `.object`; each child takes the object member of its name
///   (a member missing from the object is null in that child; extra members are ignored).
public enum ColumnEncoder {
    /// Encodes one feature column.
    ///
    /// - Parameters:
    ///   - name: The column's name (the feature's name as requested).
    ///   - layout: The feature's layout.
    ///   - values: One value per row, in row order.
    /// - Returns: A column of `values.count` rows.
    public static func encode(
        name: String,
        layout: ColumnLayout,
        values: [FeatureValue]
    ) throws(ColumnEncodingError) -> Crema_V1_Column {
        var builder = ColumnBuilder(name: name, layout: layout, capacity: values.count)
        for (row, value) in values.enumerated() {
            do {
                try builder.append(value)
            } catch {
                switch error {
                case .mismatch(let expected, let found):
                    throw .typeMismatch(column: name, row: row, expected: expected.dtype, found: found)
                case .offsetOverflow:
                    throw .offsetOverflow(column: name)
                }
            }
        }
        return builder.finish()
    }
}

/// A failure inside a builder; ``ColumnEncoder`` adds the column and row.
private enum BuildFailure: Error {
    case mismatch(expected: ColumnLayout, found: FeatureValue)
    case offsetOverflow
}

/// The buffers of one column (or child column) being built.
private struct ColumnBuilder {
    let name: String
    let layout: ColumnLayout
    var length = 0
    var nullCount = 0
    var validity: [UInt8] = []
    var values: [UInt8] = []
    var offsets: [UInt8] = []
    var data: [UInt8] = []
    var children: [ColumnBuilder] = []

    init(name: String, layout: ColumnLayout, capacity: Int) {
        self.name = name
        self.layout = layout
        switch layout {
        case .int64, .float64:
            values.reserveCapacity(capacity * 8)
        case .float32:
            values.reserveCapacity(capacity * 4)
        case .bool:
            values.reserveCapacity(capacity)
        case .string:
            offsets.reserveCapacity((capacity + 1) * 4)
            offsets.appendLittleEndian(Int32(0))
            data.reserveCapacity(capacity * 8)
        case .list(let item):
            offsets.reserveCapacity((capacity + 1) * 4)
            offsets.appendLittleEndian(Int32(0))
            children = [ColumnBuilder(name: "item", layout: item, capacity: capacity)]
        case .struct(let members):
            children = members.map { ColumnBuilder(name: $0.name, layout: $0.layout, capacity: capacity) }
        }
    }

    /// Appends one row.
    mutating func append(_ value: FeatureValue) throws(BuildFailure) {
        switch (layout, value) {
        case (_, .null):
            try appendNull()
            return
        case (.int64, .int(let number)):
            values.appendLittleEndian(number)
        case (.float64, .float(let number)):
            values.appendLittleEndian(number.bitPattern)
        case (.float32, .float(let number)):
            values.appendLittleEndian(Float(number).bitPattern)
        case (.bool, .bool(let flag)):
            values.append(flag ? 1 : 0)
        case (.string, .string(var text)):
            text.withUTF8 { data.append(contentsOf: $0) }
            try appendOffset(data.count)
        case (.list, .list(let items)):
            for item in items { try children[0].append(item) }
            try appendOffset(children[0].length)
        case (.list(.float32), .vector(let floats)):
            children[0].appendFloat32s(floats)
            try appendOffset(children[0].length)
        case (.list(.struct(let members)), .object(let entries)) where members.count == 2 && members[0].layout == .string:
            for entry in entries { try children[0].appendEntry(key: entry.key, value: entry.value) }
            try appendOffset(children[0].length)
        case (.struct, .object(let members)):
            for index in children.indices {
                let name = children[index].name
                let member: FeatureValue.Member?
                if index < members.count, members[index].key == name {
                    member = members[index]
                } else {
                    member = members.first { $0.key == name }
                }
                try children[index].append(member?.value ?? .null)
            }
        default:
            throw .mismatch(expected: layout, found: value)
        }
        pushValidity(true)
    }

    /// Appends a null row: zero bytes, an empty span, or a null in every child.
    mutating func appendNull() throws(BuildFailure) {
        switch layout {
        case .int64, .float64:
            values.append(contentsOf: repeatElement(0, count: 8))
        case .float32:
            values.append(contentsOf: repeatElement(0, count: 4))
        case .bool:
            values.append(0)
        case .string:
            try appendOffset(data.count)
        case .list:
            try appendOffset(children[0].length)
        case .struct:
            for index in children.indices { try children[index].appendNull() }
        }
        pushValidity(false)
    }

    /// Appends the items of a vector to a `.float32` column, all present.
    mutating func appendFloat32s(_ floats: [Float]) {
        #if _endian(little)
        floats.withUnsafeBytes { values.appendBytes($0) }
        #else
        for float in floats { values.appendLittleEndian(float.bitPattern) }
        #endif
        pushPresent(count: floats.count)
    }

    /// Appends one `{key, value}` entry to a two-member struct column (a histogram entry).
    mutating func appendEntry(key: String, value: FeatureValue) throws(BuildFailure) {
        try children[0].append(.string(key))
        try children[1].append(value)
        pushValidity(true)
    }

    /// Appends the end offset of the row just written.
    private mutating func appendOffset(_ end: Int) throws(BuildFailure) {
        guard let offset = Int32(exactly: end) else { throw .offsetOverflow }
        offsets.appendLittleEndian(offset)
    }

    /// Records the presence of the next row. The bitmap is written only once a row is
    /// null: until then `validity` stays empty and rows are counted.
    private mutating func pushValidity(_ present: Bool) {
        if present && nullCount == 0 {
            length += 1
            return
        }
        if nullCount == 0 { startBitmap() }
        let bit = length & 7
        if bit == 0 { validity.append(0) }
        if present {
            validity[validity.count - 1] |= UInt8(1) << bit
        } else {
            nullCount += 1
        }
        length += 1
    }

    /// Records `count` present rows.
    private mutating func pushPresent(count: Int) {
        if nullCount == 0 {
            length += count
        } else {
            for _ in 0..<count { pushValidity(true) }
        }
    }

    /// Writes the bitmap of the `length` rows so far, all present, before the first null.
    private mutating func startBitmap() {
        validity.append(contentsOf: repeatElement(0xFF, count: length / 8))
        if length & 7 != 0 { validity.append(UInt8(1) << (length & 7) - 1) }
    }

    /// The finished column; validity is left empty when no row is null.
    func finish() -> Crema_V1_Column {
        var column = Crema_V1_Column()
        column.name = name
        column.dtype = layout.dtype
        column.length = Int64(length)
        if nullCount > 0 { column.validity = Data(validity) }
        if !values.isEmpty { column.values = Data(values) }
        if !offsets.isEmpty { column.offsets = Data(offsets) }
        if !data.isEmpty { column.data = Data(data) }
        column.children = children.map { $0.finish() }
        return column
    }
}

extension Array where Element == UInt8 {
    /// Appends the little-endian bytes of a fixed-width integer.
    fileprivate mutating func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value) {
        Swift.withUnsafeBytes(of: value.littleEndian) { appendBytes($0) }
    }

    /// Appends raw bytes with one bulk copy.
    fileprivate mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        bytes.withMemoryRebound(to: UInt8.self) { append(contentsOf: $0) }
    }
}
