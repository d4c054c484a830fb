import CPrefetch
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
/// changes; readers fill slots while holding the table's lock.
///
/// Ints, floats and Booleans are kept as 8-byte payloads (two cache lines for a row of 16
/// features rather than six as `FeatureValue`s), with their kind in the slot's masks; other
/// values are kept as `FeatureValue`s. The first 64 features of a group are cached (one bit
/// each); later ones are computed on every read.
final class ResultCache {
    /// The most features cached per row.
    static let capacity = 64

    /// Which features of a slot are filled, the read times they all hold for, and each filled
    /// value's kind: a bit in `ints`, `floats` or `bools` (payload in `scalars`), in `boxed`
    /// (in `values`), or in none of them (null).
    fileprivate struct Validity {
        var filled: UInt64 = 0
        var from = Int64.min
        var until = Int64.min
        var ints: UInt64 = 0
        var floats: UInt64 = 0
        var bools: UInt64 = 0
        var boxed: UInt64 = 0
    }

    /// How long each of the group's features holds.
    private let freshness: [FeatureFreshness]
    /// Cached features per slot.
    private let stride: Int
    /// Int, float and Boolean payloads by `slot * stride + feature`.
    private var scalars: [UInt64] = []
    /// Other values by `slot * stride + feature`.
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
        scalars.append(contentsOf: repeatElement(0, count: validity.count * stride - scalars.count))
        values.append(contentsOf: repeatElement(.null, count: validity.count * stride - values.count))
    }

    /// Drops the values of `slot` (its row changed).
    func invalidate(slot: Int) {
        if slot < validity.count { validity[slot].filled = 0 }
    }

    /// Calls `body` with a view of the cache through which reads at `time` get and store values.
    func withValues<Result>(at time: Int64, _ body: (Access) -> Result) -> Result {
        scalars.withUnsafeMutableBufferPointer { scalars in
            values.withUnsafeMutableBufferPointer { values in
                validity.withUnsafeMutableBufferPointer { validity in
                    body(Access(scalars: scalars, values: values, validity: validity, stride: stride, freshness: freshness, time: time))
                }
            }
        }
    }

    /// Reads and stores cached values of one read time.
    struct Access {
        fileprivate let scalars: UnsafeMutableBufferPointer<UInt64>
        fileprivate let values: UnsafeMutableBufferPointer<FeatureValue>
        fileprivate let validity: UnsafeMutableBufferPointer<Validity>
        fileprivate let stride: Int
        fileprivate let freshness: [FeatureFreshness]
        fileprivate let time: Int64

        /// Initializes `output` (uninitialized memory, one element per slot) with the cached
        /// values of `feature`: null for a negative slot and for a slot with no value that holds
        /// at the read time, whose position it reports. One tight loop per feature, so that the
        /// memory misses of different rows overlap.
        ///
        /// - Complexity: O(slots).
        func gather(
            feature: Int, slots: UnsafeBufferPointer<Int32>, into output: UnsafeMutableBufferPointer<FeatureValue>,
            missing: (_ position: Int) -> Void
        ) {
            let target = output.baseAddress!
            guard feature < stride else {
                for position in slots.indices {
                    (target + position).initialize(to: .null)
                    if slots[position] >= 0 { missing(position) }
                }
                return
            }
            let bit: UInt64 = 1 << UInt64(feature)
            for position in slots.indices {
                prefetch(feature: feature, slotAt: position &+ Self.prefetchDistance, of: slots)
                let slot = Int(slots[position])
                guard slot >= 0 else {
                    (target + position).initialize(to: .null)
                    continue
                }
                let state = validity[slot]
                guard state.filled & bit != 0, state.from <= time, time < state.until else {
                    (target + position).initialize(to: .null)
                    missing(position)
                    continue
                }
                let index = slot &* stride &+ feature
                if state.ints & bit != 0 {
                    (target + position).initialize(to: .int(Int64(bitPattern: scalars[index])))
                } else if state.floats & bit != 0 {
                    (target + position).initialize(to: .float(Double(bitPattern: scalars[index])))
                } else if state.bools & bit != 0 {
                    (target + position).initialize(to: .bool(scalars[index] != 0))
                } else if state.boxed & bit != 0 {
                    (target + position).initialize(to: values[index])
                } else {
                    (target + position).initialize(to: .null)
                }
            }
        }

        /// Initializes `payloads` and `isPresent` (one element per slot) with the cached values
        /// of `feature`, whose values are of `kind`: absent (payload 0) for a negative slot, a
        /// null value, and a slot with no value that holds at the read time, whose position it
        /// reports. One tight loop per feature, like `gather(feature:slots:into:missing:)`.
        ///
        /// - Complexity: O(slots).
        func gatherScalars(
            feature: Int, kind: ScalarKind, slots: UnsafeBufferPointer<Int32>, payloads: UnsafeMutablePointer<UInt64>,
            isPresent: UnsafeMutablePointer<Bool>, missing: (_ position: Int) -> Void
        ) {
            guard feature < stride else {
                payloads.initialize(repeating: 0, count: slots.count)
                isPresent.initialize(repeating: false, count: slots.count)
                for position in slots.indices where slots[position] >= 0 { missing(position) }
                return
            }
            let bit: UInt64 = 1 << UInt64(feature)
            for position in slots.indices {
                prefetch(feature: feature, slotAt: position &+ Self.prefetchDistance, of: slots)
                let slot = Int(slots[position])
                guard slot >= 0 else {
                    (payloads + position).initialize(to: 0)
                    (isPresent + position).initialize(to: false)
                    continue
                }
                let state = validity[slot]
                guard state.filled & bit != 0, state.from <= time, time < state.until else {
                    (payloads + position).initialize(to: 0)
                    (isPresent + position).initialize(to: false)
                    missing(position)
                    continue
                }
                let kindMask = switch kind {
                case .int: state.ints
                case .float: state.floats
                case .bool: state.bools
                }
                let present = kindMask & bit != 0
                (payloads + position).initialize(to: present ? scalars[slot &* stride &+ feature] : 0)
                (isPresent + position).initialize(to: present)
            }
        }

        /// How many slots ahead a gather prefetches the validity and value of.
        private static let prefetchDistance = 8

        /// Prefetches the validity and the scalar payload of `feature` of the slot at `position`
        /// of `slots`, if there is one.
        @inline(__always)
        private func prefetch(feature: Int, slotAt position: Int, of slots: UnsafeBufferPointer<Int32>) {
            guard position < slots.count else { return }
            let slot = Int(slots[position])
            guard slot >= 0 else { return }
            crema_prefetch(validity.baseAddress! + slot)
            crema_prefetch(scalars.baseAddress! + (slot &* stride &+ feature))
        }

        /// Caches `value` of `feature` of `slot`, computed for the read time, for a row that
        /// expires at `expiresAt`: the value holds no later than that, and the null of an expired
        /// row from then on. Values of the slot that no longer hold are dropped first, so the
        /// validity left always holds the read time.
        func store(_ value: FeatureValue, slot: Int, feature: Int, expiresAt: Int64) {
            guard feature < stride else { return }
            var holds: Range<Int64>
            switch freshness[feature] {
            case .tiles(let window): holds = window.sameTiles(asAt: time)
            case .anyTime: holds = Int64.min..<Int64.max
            case .readTime: return
            }
            holds = time >= expiresAt ? expiresAt..<Int64.max : holds.lowerBound..<min(holds.upperBound, max(holds.lowerBound, expiresAt))
            var state = validity[slot]
            if state.filled == 0 || !(state.from <= time && time < state.until) {
                state = Validity(filled: 0, from: Int64.min, until: Int64.max)
            }
            state.from = max(state.from, holds.lowerBound)
            state.until = min(state.until, holds.upperBound)
            let bit: UInt64 = 1 << UInt64(feature)
            state.filled |= bit
            state.ints &= ~bit
            state.floats &= ~bit
            state.bools &= ~bit
            state.boxed &= ~bit
            let index = slot * stride + feature
            switch value {
            case .null: break
            case .int(let number):
                state.ints |= bit
                scalars[index] = UInt64(bitPattern: number)
            case .float(let number):
                state.floats |= bit
                scalars[index] = number.bitPattern
            case .bool(let flag):
                state.bools |= bit
                scalars[index] = flag ? 1 : 0
            default:
                state.boxed |= bit
                values[index] = value
            }
            validity[slot] = state
        }
    }
}
