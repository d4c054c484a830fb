import CremaAggregation
import CremaStorage

/// One event decoded from an NDJSON line, checked against its event schema.
public struct DecodedEvent: Sendable {
    /// The index of the event's type in `CompiledSpec.events`.
    public var eventIndex: Int
    /// The declared fields, in schema order; `.null` for a missing optional field.
    public var fields: [FieldValue]
    /// The event time in epoch ms, or nil when the schema has no `time` (arrival time is used).
    public var time: Int64?
    /// The producer's `seq`, or 0 when the connection has no producer.
    public var sequence: UInt64
    /// The line number within its connection (or file), for error messages.
    public var line: Int

    /// Creates a decoded event. Its line's bytes are not kept here: an `IngestBatch` copies them
    /// into its event log as the event is added.
    public init(eventIndex: Int, fields: [FieldValue], time: Int64?, sequence: UInt64, line: Int) {
        self.eventIndex = eventIndex
        self.fields = fields
        self.time = time
        self.sequence = sequence
        self.line = line
    }
}

/// Events from one connection handed to the engine together, with their lines as the event
/// log keeps them, compressed as they are added (so by the thread that decodes them, not the
/// engine's writer).
public struct IngestBatch: Sendable {
    /// The producer named in the connection's hello, or nil (at-least-once, no dedup).
    public var producer: String?
    /// The events, in line order.
    public private(set) var events: [DecodedEvent] = []
    /// The events' `seq`s and lines, for the event log.
    private var log = LogSegment.Builder()

    /// An empty batch.
    public init(producer: String?) {
        self.producer = producer
    }

    /// Adds an event after the others, with the line it was decoded from (for the event log).
    /// - Complexity: amortized O(length of its line).
    public mutating func append(_ event: DecodedEvent, line: UnsafeRawBufferPointer) {
        events.append(event)
        log.append(producerSequence: event.sequence, line: line)
    }

    /// Adds an event after the others, with the line it was decoded from (for the event log).
    /// - Complexity: amortized O(length of its line).
    public mutating func append(_ event: DecodedEvent, line: [UInt8]) {
        line.withUnsafeBytes { append(event, line: $0) }
    }

    /// The events as the log keeps them; compresses those not compressed yet.
    /// - Complexity: O(length of the lines added since the last full block).
    public func logSegment() -> LogSegment {
        log.finish(producer: producer ?? "")
    }
}

/// What the engine did with an `IngestBatch`, once it is durable.
public struct IngestOutcome: Sendable, Equatable {
    /// Events applied (including late ones).
    public var accepted = 0
    /// Events skipped because their `seq` was already settled for the producer.
    public var duplicates = 0
    /// Accepted events too old for every window they feed.
    public var late = 0
    /// Events the engine refused (for example more than `max_future` ahead): line and cause.
    public var rejections: [Rejection] = []

    /// One refused event.
    public struct Rejection: Sendable, Equatable {
        /// The event's line number.
        public var line: Int
        /// Why it was refused.
        public var message: String

        /// Creates a rejection.
        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// Creates an empty outcome.
    public init() {}
}

/// Where ingest hands decoded events: the engine, which applies them durably.
public protocol IngestSink: Sendable {
    /// The highest `seq` already settled for `producer` (0 for a new one).
    func lastSequence(of producer: String) throws -> UInt64
    /// Applies the batch, then calls `completion` once its WriteBatch is in the WAL (and fsynced
    /// with `sync`), on the sink's own thread: answering a producer needs no task of the
    /// shared cooperative pool, whose threads the writer's cores may all be using.
    func submit(_ batch: IngestBatch, completion: @escaping @Sendable (Result<IngestOutcome, any Error>) -> Void)
}
