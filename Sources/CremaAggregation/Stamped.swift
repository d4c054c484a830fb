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
        time != other.time ? time > other.time : arrival > other.arrival
    }

    /// Appends the zigzag time and the varint arrival (the value is the caller's).
    func encodeStamp(into bytes: inout [UInt8]) {
        bytes.appendZigzag(time)
        bytes.appendVarint(arrival)
    }
}
