#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A DDSketch (Masson, Rim and Lee, 2019) with 1% relative accuracy: a value x > 0 falls in
/// bin ⌈log_γ x⌉ with γ = (1 + α)/(1 − α), and a bin reads back as 2γ^i/(γ + 1), within α of
/// every value in it. Negative values use a second store on their magnitude; zeros are counted
/// apart. Each store keeps at most `BinStore.maximumBins` bins.
struct DDSketch: Sendable, Equatable {
    /// The relative accuracy α.
    static let relativeAccuracy = 0.01
    /// γ = (1 + α)/(1 − α).
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    /// 1 / ln γ.
    static let indexMultiplier = 1 / log(gamma)
    /// Magnitudes below this count as zero (their bin index would leave the store's range).
    static let smallestMagnitude = 1e-300

    /// Bins of positive values.
    private(set) var positive = BinStore()
    /// Bins of the magnitudes of negative values.
    private(set) var negative = BinStore()
    /// The number of zeros (and magnitudes below `smallestMagnitude`).
    private(set) var zeroCount: Int64 = 0

    /// Creates an empty sketch.
    init() {}

    /// Prefetches the positive bins of the sketch at `address`, where most values go.
    @inline(__always)
    static func prefetch(sketchAt address: UnsafeRawPointer) {
        BinStore.prefetch(storeAt: address + MemoryLayout<Self>.offset(of: \Self.positive)!)
    }

    /// Prefetches the rest of the positive bins of the sketch at `address`, once
    /// `prefetch(sketchAt:)` has brought in their count.
    @inline(__always)
    static func prefetchRest(ofSketchAt address: UnsafeRawPointer) {
        BinStore.prefetchRest(ofStoreAt: address + MemoryLayout<Self>.offset(of: \Self.positive)!)
    }

    /// Whether no value was added.
    var isEmpty: Bool { positive.isEmpty && negative.isEmpty && zeroCount == 0 }

    /// Adds one value.
    ///
    /// - Complexity: O(1) within the current bin range, O(bins) when it widens.
    mutating func add(_ value: Double) {
        if value >= Self.smallestMagnitude {
            positive.add(index: Self.index(of: value))
        } else if value <= -Self.smallestMagnitude {
            negative.add(index: Self.index(of: -value))
        } else {
            zeroCount &+= 1
        }
    }

    /// Adds another sketch's values.
    ///
    /// - Complexity: O(bins).
    mutating func merge(_ other: DDSketch) {
        positive.merge(other.positive)
        negative.merge(other.negative)
        zeroCount &+= other.zeroCount
    }

    /// The value at quantile `q` (clamped to [0, 1]): the bin holding the value of rank
    /// ⌊q · (n − 1)⌋ in ascending order; nil when empty.
    ///
    /// - Complexity: O(bins).
    func quantile(_ q: Double) -> Double? {
        let negativeTotal = negative.total
        let total = negativeTotal + zeroCount + positive.total
        guard total > 0 else { return nil }
        let rank = Swift.min(Swift.max(q, 0), 1) * Double(total - 1)
        var seen: Int64 = 0
        func reachesRank(_ bin: BinStore.Bin) -> Bool {
            seen += bin.count
            return Double(seen) > rank
        }
        if let bin = negative.firstBin(descending: true, where: reachesRank) { return -Self.value(ofIndex: bin.index) }
        seen += zeroCount
        if Double(seen) > rank { return 0 }
        if let bin = positive.firstBin(where: reachesRank) { return Self.value(ofIndex: bin.index) }
        return Self.value(ofIndex: positive.indexRange?.upperBound ?? -1)
    }

    /// The bin of a positive magnitude: ⌈log_γ x⌉.
    private static func index(of magnitude: Double) -> Int {
        Int((log(magnitude) * indexMultiplier).rounded(.up))
    }

    /// The representative of bin `index`: 2γ^i/(γ + 1).
    private static func value(ofIndex index: Int) -> Double {
        2 * exp(Double(index) / indexMultiplier) / (gamma + 1)
    }

    /// The zero count (varint), then the positive and negative stores.
    ///
    /// - Complexity: O(bins).
    func encode(into bytes: inout [UInt8]) {
        bytes.appendVarint(UInt64(bitPattern: zeroCount))
        positive.encode(into: &bytes)
        negative.encode(into: &bytes)
    }

    /// Reads what `encode(into:)` wrote.
    ///
    /// - Complexity: O(bins).
    static func decode(from reader: inout ByteReader) throws(AggregationError) -> DDSketch {
        var sketch = DDSketch()
        sketch.zeroCount = Int64(bitPattern: try reader.readVarint())
        sketch.positive = try BinStore.decode(from: &reader)
        sketch.negative = try BinStore.decode(from: &reader)
        return sketch
    }
}
