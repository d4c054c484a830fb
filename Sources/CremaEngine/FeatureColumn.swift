import CremaAggregation
import CremaStorage

/// The kind of every value of a feature whose values are numbers or Booleans, fixed by its
/// op and field type. A read keeps such features as 8-byte payloads, not `FeatureValue`s.
public enum ScalarKind: Sendable, Hashable {
    /// `Int64` payloads.
    case int
    /// `Double` bit patterns.
    case float
    /// 0 or 1.
    case bool

    /// The kind of an aggregate's features, or nil when they are strings, lists or objects.
    init?(operation: Operation, fieldTypes: [FieldType]) {
        switch operation {
        case .count, .approxDistinct:
            self = .int
        case .mean, .variance, .decayedCount, .decayedSum:
            self = .float
        case .sum:
            self = fieldTypes.first == .int ? .int : .float
        case .min, .max, .first, .last:
            switch fieldTypes.first {
            case .int: self = .int
            case .float: self = .float
            case .bool: self = .bool
            default: return nil
            }
        default:
            return nil
        }
    }

    /// The payload of `value`, or nil for null.
    /// - Precondition: `value` is null or of this kind (the op fixes it).
    func payload(of value: FeatureValue) -> UInt64? {
        switch (self, value) {
        case (_, .null): return nil
        case (.int, .int(let number)): return UInt64(bitPattern: number)
        case (.float, .float(let number)): return number.bitPattern
        case (.bool, .bool(let flag)): return flag ? 1 : 0
        default: preconditionFailure("a \(self) feature computed \(value)")
        }
    }

    /// The value of a payload.
    func value(of payload: UInt64) -> FeatureValue {
        switch self {
        case .int: .int(Int64(bitPattern: payload))
        case .float: .float(Double(bitPattern: payload))
        case .bool: .bool(payload != 0)
        }
    }
}

/// One scalar feature's values for every id of a read, packed: what a columnar response
/// copies as it is.
public struct ScalarColumn: Sendable {
    /// The values' kind.
    public let kind: ScalarKind
    /// One payload per id: the `Int64`, the `Double`'s bit pattern, or 0/1; 0 where null.
    public let payloads: [UInt64]
    /// Whether each id's value is present (not null).
    public let isPresent: [Bool]
    /// How many ids' values are null.
    public let nullCount: Int

    /// The value of row `row`.
    public subscript(row: Int) -> FeatureValue {
        isPresent[row] ? kind.value(of: payloads[row]) : .null
    }
}

/// One feature's values for every id of a read, in id order.
public enum FeatureColumn: Sendable {
    /// A feature of numbers or Booleans.
    case scalars(ScalarColumn)
    /// Any other feature.
    case boxed([FeatureValue])

    /// The number of rows.
    public var count: Int {
        switch self {
        case .scalars(let column): column.payloads.count
        case .boxed(let values): values.count
        }
    }

    /// The value of row `row`.
    public subscript(row: Int) -> FeatureValue {
        switch self {
        case .scalars(let column): column[row]
        case .boxed(let values): values[row]
        }
    }

    /// Every row's value.
    public var values: [FeatureValue] {
        switch self {
        case .scalars(let column): (0..<column.payloads.count).map { column[$0] }
        case .boxed(let values): values
        }
    }
}

/// The ids of one read: key parts per id, or one packed array when every id is one part.
public enum EntityIDs: Sendable {
    /// Each id as its key parts (one part, or several for a cohort).
    case parts([[EntityKeyPart]])
    /// Single-part ids given as strings.
    case texts(PackedTexts)
    /// Single-part ids given as ints.
    case numbers([Int64])

    /// The number of ids.
    public var count: Int {
        switch self {
        case .parts(let ids): ids.count
        case .texts(let ids): ids.count
        case .numbers(let ids): ids.count
        }
    }
}
