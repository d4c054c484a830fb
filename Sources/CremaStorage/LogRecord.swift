/// One raw event as the `log` column family keeps it: the line a producer sent and when and
/// from whom it arrived.
public struct LogRecord: Hashable, Sendable {
    /// The server-wide arrival sequence number of the event.
    public var arrivalSequence: UInt64
    /// When the event arrived, epoch milliseconds.
    public var arrivalTime: Int64
    /// The producer's name from its hello; empty for an anonymous connection.
    public var producer: String
    /// The producer's `seq` for the event; 0 when it has none.
    public var producerSequence: UInt64
    /// The raw JSON line, without its newline.
    public var line: [UInt8]

    /// Creates a record.
    public init(arrivalSequence: UInt64, arrivalTime: Int64, producer: String, producerSequence: UInt64, line: [UInt8]) {
        self.arrivalSequence = arrivalSequence
        self.arrivalTime = arrivalTime
        self.producer = producer
        self.producerSequence = producerSequence
        self.line = line
    }
}
