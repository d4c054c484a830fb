import CremaAggregation

/// How long a finalized feature value stays right, absent new events.
enum FeatureFreshness: Sendable {
    /// A window: the same while reads cover the same tiles (`Window.sameTiles(asAt:)`).
    case tiles(Window)
    /// Lifetime, last_n, sequence: the same at any read time.
    case anyTime
    /// decayed_*: changes with the read time; never cached.
    case readTime
}

/// Finalized values of one row's features with the read times they hold for, so that reads
/// between events do not merge tiles again. Dropped by the writer whenever the row changes;
/// filled by readers, which hold the engine's state lock.
final class ResultCache {
    private var values: [FeatureValue]
    private var validity: [Range<Int64>]

    /// An empty cache for `count` features.
    init(count: Int) {
        values = Array(repeating: .null, count: count)
        validity = Array(repeating: 0..<0, count: count)
    }

    /// The cached value of `feature` for a read at `time`, if one holds.
    func value(_ feature: Int, at time: Int64) -> FeatureValue? {
        validity[feature].contains(time) ? values[feature] : nil
    }

    /// Caches `value` of `feature`, computed for a read at `time`.
    func store(_ value: FeatureValue, _ feature: Int, at time: Int64, freshness: FeatureFreshness) {
        switch freshness {
        case .tiles(let window): validity[feature] = window.sameTiles(asAt: time)
        case .anyTime: validity[feature] = Int64.min..<Int64.max
        case .readTime: return
        }
        values[feature] = value
    }
}
