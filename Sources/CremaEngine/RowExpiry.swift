import CremaAggregation
import CremaSpec

/// When a row of a group expires (DESIGN.md, "Storage"; "Values a read returns": an expired
/// row reads as null in every feature, like one never seen). Expired rows are removed from
/// memory by the writer's sweep and from RocksDB by compaction; until then reads skip them and
/// an event starts them afresh.
enum RowExpiry: Sendable {
    /// The group sets `ttl`: a row expires once its newest event is more than this many ms old.
    case ttl(Int64)
    /// Every aggregate has windows: a row expires once its newest event is outside all of them.
    case windows([Window])

    /// The expiry of `group`'s rows, or nil when they never expire (a lifetime aggregate and no `ttl`).
    init?(group: FeatureGroup) {
        if let ttl = group.ttl {
            self = .ttl(ttl)
        } else if group.aggregates.allSatisfy({ !$0.windows.isEmpty }) {
            self = .windows(group.aggregates.flatMap(\.windows))
        } else {
            return nil
        }
    }

    /// The first read time at which a row whose newest event is at `newestEventTime` is expired.
    func expiresAt(newestEventTime: Int64) -> Int64 {
        guard newestEventTime != .min else { return .max }
        switch self {
        case .ttl(let ttl):
            return newestEventTime &+ ttl &+ 1
        case .windows(let windows):
            // A window of length W and hop H read at t starts at tile floor((t − W) / H); the
            // event's tile floor(e / H) is before it once t ≥ (floor(e / H) + 1)·H + W.
            return windows.reduce(Int64.min) { latest, window in
                max(latest, (floorDivide(newestEventTime, window.hop) &+ 1) &* window.hop &+ window.length)
            }
        }
    }

    /// Whether a row whose newest event is at `newestEventTime` is expired at `time`.
    func isExpired(newestEventTime: Int64, at time: Int64) -> Bool {
        time >= expiresAt(newestEventTime: newestEventTime)
    }
}
