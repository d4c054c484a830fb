@testable import CremaAggregation

/// The test events' schema: one optional field of every type, in this order.
enum TestEvents {
    /// `int?` at index 0.
    static let int = AggregateInput(index: 0, type: .int, name: "n")
    /// `float?` at index 1.
    static let float = AggregateInput(index: 1, type: .float, name: "x")
    /// `string?` at index 2.
    static let string = AggregateInput(index: 2, type: .string, name: "s")
    /// `bool?` at index 3.
    static let bool = AggregateInput(index: 3, type: .bool, name: "b")
    /// `vector[3]?` at index 4.
    static let vector = AggregateInput(index: 4, type: .vector(dimension: 3), name: "v")

    /// Strings whose UTF-8 order differs from naive expectations (upper before lower, multi-byte last).
    static let strings = ["a", "b", "ab", "B", "é", "z", "ü", "日本", "", "aa"]

    /// A random event: each field null one time in ten, values drawn from small sets so they repeat.
    static func random(using generator: inout SplitMix64) -> [FieldValue] {
        func maybe(_ value: FieldValue) -> FieldValue {
            Int.random(in: 0..<10, using: &generator) == 0 ? .null : value
        }
        return [
            maybe(.int(Int64.random(in: -20...20, using: &generator))),
            maybe(.float(Int.random(in: 0..<8, using: &generator) == 0 ? 0 : Double.random(in: -100...100, using: &generator))),
            maybe(.string(strings[Int.random(in: 0..<strings.count, using: &generator)])),
            maybe(.bool(Bool.random(using: &generator))),
            maybe(.vector((0..<3).map { _ in Float(Int.random(in: -5...5, using: &generator)) })),
        ]
    }

    /// Whether two feature values are equal, floats within `tolerance` relative error (absolute below 1).
    static func approximatelyEqual(_ lhs: FeatureValue, _ rhs: FeatureValue, tolerance: Double) -> Bool {
        switch (lhs, rhs) {
        case (.float(let a), .float(let b)):
            return abs(a - b) <= tolerance * Swift.max(1, abs(a), abs(b))
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { approximatelyEqual($0, $1, tolerance: tolerance) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy {
                $0.key == $1.key && approximatelyEqual($0.value, $1.value, tolerance: tolerance)
            }
        default:
            return lhs == rhs
        }
    }
}
