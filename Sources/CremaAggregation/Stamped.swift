/// A value with the (event time, arrival) of the event it came from: the order of
/// first, last, last_n and sequence.
struct Stamped<Value: Sendable & Equatable>: Sendable, Equatable {
    /// The value.
    var value: Value
    /// The event time, epoch milliseconds.
    var time: Int64
    /// The global arrival sequence number.
    var arrival: UInt64

    /// Whether this event comes after `other` by (event time, arrival).
    @inline(__always)
    func isNewer(than other: Stamped) -> Bool {
        Self.isNewer(time: time, arrival: arrival, than: other.time, other.arrival)
    }

    /// Whether an event at (`time`, `arrival`) comes after one at (`otherTime`, `otherArrival`):
    /// the later event time, ties broken by the later arrival.
    @inline(__always)
    static func isNewer(time: Int64, arrival: UInt64, than otherTime: Int64, _ otherArrival: UInt64) -> Bool {
        time != otherTime ? time > otherTime : arrival > otherArrival
    }

    /// Appends the zigzag time and the varint arrival (the value is the caller's).
    func encodeStamp(into bytes: inout [UInt8]) {
        bytes.appendZigzag(time)
        bytes.appendVarint(arrival)
    }
}
