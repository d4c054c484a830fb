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

/// The finalized feature values of every row of one group, flat by row slot, with the read
/// times they hold for: a read between events copies values instead of merging tiles, and
/// touches neither the row nor its states. The writer invalidates a slot whenever its row
/// changes; readers fill slots while holding the engine's state lock.
///
/// The first 64 features of a group are cached (one bit each); later ones are computed on
/// every read.
final class ResultCache {
    /// The most features cached per row.
    static let capacity = 64

    /// Which features of a slot are filled and the read times they all hold for.
    fileprivate struct Validity {
        var filled: UInt64 = 0
        var from = Int64.min
        var until = Int64.min
    }

    /// How long each of the group's features holds.
    private let freshness: [FeatureFreshness]
    /// Cached features per slot.
    private let stride: Int
    /// Values by `slot * stride + feature`; meaningful where the slot's `filled` has its bit.
    private var values: [FeatureValue] = []
    /// One per slot.
    private var validity: [Validity] = []

    /// An empty cache for a group whose features hold as `freshness` says.
    init(freshness: [FeatureFreshness]) {
        self.freshness = freshness
        stride = min(freshness.count, Self.capacity)
    }

    /// Makes room for slots up to `slot`, empty.
    func reserve(slot: Int) {
        guard slot >= validity.count else { return }
        validity.append(contentsOf: repeatElement(Validity(), count: slot + 1 - validity.count))
        values.append(contentsOf: repeatElement(.null, count: validity.count * stride - values.count))
    }

    /// Drops the values of `slot` (its row changed).
    func invalidate(slot: Int) {
        if slot < validity.count { validity[slot].filled = 0 }
    }

    /// Calls `body` with a view of the cache through which reads at `time` get and store values.
    func withValues<Result>(at time: Int64, _ body: (Access) -> Result) -> Result {
        values.withUnsafeMutableBufferPointer { values in
            validity.withUnsafeMutableBufferPointer { validity in
                body(Access(values: values, validity: validity, stride: stride, freshness: freshness, time: time))
            }
        }
    }

    /// Reads and stores cached values of one read time.
    struct Access {
        fileprivate let values: UnsafeMutableBufferPointer<FeatureValue>
        fileprivate let validity: UnsafeMutableBufferPointer<Validity>
        fileprivate let stride: Int
        fileprivate let freshness: [FeatureFreshness]
        fileprivate let time: Int64

        /// Copies the cached values of `feature` of every slot in `slots` (skipping negative
        /// ones) to `output` at the slot's position; reports the positions with no value that
        /// holds at the read time. One tight loop per feature, so that the memory misses of
        /// different rows overlap.
        ///
        /// - Complexity: O(slots).
        func gather(
            feature: Int, slots: UnsafeBufferPointer<Int32>, into output: UnsafeMutableBufferPointer<FeatureValue>,
            missing: (_ position: Int) -> Void
        ) {
            guard feature < stride else {
                for position in slots.indices where slots[position] >= 0 { missing(position) }
                return
            }
            let bit: UInt64 = 1 << UInt64(feature)
            for position in slots.indices {
                let slot = Int(slots[position])
                guard slot >= 0 else { continue }
                let state = validity[slot]
                if state.filled & bit != 0, state.from <= time, time < state.until {
                    output[position] = values[slot &* stride &+ feature]
                } else {
                    missing(position)
                }
            }
        }

        /// Caches `value` of `feature` of `slot`, computed for the read time. Values of the slot
        /// that no longer hold are dropped first, so the validity left always holds the read time.
        func store(_ value: FeatureValue, slot: Int, feature: Int) {
            guard feature < stride else { return }
            let holds: Range<Int64>
            switch freshness[feature] {
            case .tiles(let window): holds = window.sameTiles(asAt: time)
            case .anyTime: holds = Int64.min..<Int64.max
            case .readTime: return
            }
            var state = validity[slot]
            if state.filled == 0 || !(state.from <= time && time < state.until) {
                state = Validity(filled: 0, from: Int64.min, until: Int64.max)
            }
            state.from = max(state.from, holds.lowerBound)
            state.until = min(state.until, holds.upperBound)
            state.filled |= 1 << UInt64(feature)
            validity[slot] = state
            values[slot * stride + feature] = value
        }
    }
}
