import CremaAggregation

/// Where one read writes its values, column by requested feature: scalar features into packed
/// payloads and presence flags, the others into `FeatureValue`s. Positions are ids' places in the
/// request; concurrent writers must write different positions.
struct ReadOutput: @unchecked Sendable {
    /// The number of ids.
    let count: Int
    /// Each column's kind, nil for boxed columns.
    let kinds: [ScalarKind?]
    /// Each column's index among the scalar columns or among the boxed ones.
    private let places: [Int]
    /// Scalar column `s` at `s * count ..< (s + 1) * count`.
    let payloads: UnsafeMutableBufferPointer<UInt64>
    /// Parallel to `payloads`.
    let isPresent: UnsafeMutableBufferPointer<Bool>
    /// Boxed column `b` at `b * count ..< (b + 1) * count`; uninitialized until a reader
    /// initializes a column.
    private let values: UnsafeMutableBufferPointer<FeatureValue>

    /// Room for `count` values of each feature.
    init(count: Int, features: [FeatureReference]) {
        self.count = count
        kinds = features.map(\.kind)
        var scalarCount = 0
        var boxedCount = 0
        places = kinds.map { kind in
            defer { if kind == nil { boxedCount += 1 } else { scalarCount += 1 } }
            return kind == nil ? boxedCount : scalarCount
        }
        payloads = .allocate(capacity: scalarCount * count)
        isPresent = .allocate(capacity: scalarCount * count)
        values = .allocate(capacity: boxedCount * count)
    }

    /// The payloads and presence flags of scalar column `column`.
    func scalars(of column: Int) -> (payloads: UnsafeMutablePointer<UInt64>, isPresent: UnsafeMutablePointer<Bool>) {
        let start = places[column] * count
        return (payloads.baseAddress! + start, isPresent.baseAddress! + start)
    }

    /// The values of boxed column `column`.
    func boxed(of column: Int) -> UnsafeMutablePointer<FeatureValue> {
        values.baseAddress! + places[column] * count
    }

    /// Sets every value of `column` to null (initializing a boxed column).
    func initializeNull(column: Int) {
        if kinds[column] == nil {
            boxed(of: column).initialize(repeating: .null, count: count)
        } else {
            let (payloads, isPresent) = scalars(of: column)
            payloads.initialize(repeating: 0, count: count)
            isPresent.initialize(repeating: false, count: count)
        }
    }

    /// Replaces the value of `column` at `position` (the column is initialized).
    func set(_ value: FeatureValue, column: Int, position: Int) {
        if let kind = kinds[column] {
            let (payloads, isPresent) = scalars(of: column)
            let payload = kind.payload(of: value)
            payloads[position] = payload ?? 0
            isPresent[position] = payload != nil
        } else {
            boxed(of: column)[position] = value
        }
    }

    /// Every column, moved out of the buffers, which are freed. Every column must be initialized.
    func takeColumns() -> [FeatureColumn] {
        defer { deallocate() }
        return kinds.indices.map { column in
            if let kind = kinds[column] {
                let (payloads, isPresent) = scalars(of: column)
                let presence = Array(UnsafeBufferPointer(start: isPresent, count: count))
                return .scalars(ScalarColumn(
                    kind: kind, payloads: Array(UnsafeBufferPointer(start: payloads, count: count)), isPresent: presence,
                    nullCount: presence.reduce(0) { $0 + ($1 ? 0 : 1) }
                ))
            }
            // Moved out, not copied: no reference counting per value.
            return .boxed([FeatureValue](unsafeUninitializedCapacity: count) { buffer, initialized in
                buffer.baseAddress!.moveInitialize(from: boxed(of: column), count: count)
                initialized = count
            })
        }
    }

    /// Frees the buffers after a failed read, deinitializing the boxed `initialized` columns.
    func discard(initialized columns: [Int]) {
        for column in columns where kinds[column] == nil { boxed(of: column).deinitialize(count: count) }
        deallocate()
    }

    private func deallocate() {
        payloads.deallocate()
        isPresent.deallocate()
        values.deallocate()
    }
}
