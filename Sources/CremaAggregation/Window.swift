/// A sliding window of an aggregate: its length and hop in milliseconds (DESIGN.md, "Windows: the contract").
public struct Window: Sendable, Hashable {
    /// The window length W in milliseconds.
    public let length: Int64
    /// The hop H in milliseconds; tiles are `[k·H, (k+1)·H)`.
    public let hop: Int64
    /// The window as written in the spec (`7d`, `90m`), used in feature names.
    public let name: String

    /// Creates a window; `hop` defaults to Chronon's rule.
    public init(length: Int64, hop: Int64? = nil, name: String) {
        self.length = length
        self.hop = hop ?? Window.defaultHop(forLength: length)
        self.name = name
    }

    /// Chronon's rule: 5m when W < 12h, 1h when W < 12d, else 1d.
    public static func defaultHop(forLength length: Int64) -> Int64 {
        if length < 12 * Milliseconds.hour { return 5 * Milliseconds.minute }
        if length < 12 * Milliseconds.day { return Milliseconds.hour }
        return Milliseconds.day
    }

    /// The index of the first tile a read at `time` covers: `floor((t − W) / H)`.
    public func firstTile(at time: Int64) -> Int64 { floorDivide(time - length, hop) }

    /// The index of the last tile a read at `time` covers: `floor(t / H)`.
    public func lastTile(at time: Int64) -> Int64 { floorDivide(time, hop) }

    /// The read times around `time` whose reads cover the same tiles as a read at `time`: until
    /// an event changes a tile, a window's value is the same anywhere in this range.
    public func sameTiles(asAt time: Int64) -> Range<Int64> {
        let headStart = lastTile(at: time) * hop
        let tailStart = firstTile(at: time) * hop + length
        let start = Swift.max(headStart, tailStart)
        return start..<Swift.min(headStart + hop, tailStart + hop)
    }
}

/// Millisecond constants for spec durations (`s`, `m`, `h`, `d`, `w`).
public enum Milliseconds {
    /// One second in milliseconds.
    public static let second: Int64 = 1_000
    /// One minute in milliseconds.
    public static let minute: Int64 = 60_000
    /// One hour in milliseconds.
    public static let hour: Int64 = 3_600_000
    /// One day in milliseconds.
    public static let day: Int64 = 86_400_000
    /// One week in milliseconds.
    public static let week: Int64 = 604_800_000
}

/// Integer division rounding toward negative infinity.
@inlinable
public func floorDivide(_ numerator: Int64, _ denominator: Int64) -> Int64 {
    let quotient = numerator / denominator
    return (numerator % denominator != 0 && (numerator < 0) != (denominator < 0)) ? quotient - 1 : quotient
}
