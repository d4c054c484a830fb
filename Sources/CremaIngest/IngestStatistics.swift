import Synchronization

/// A snapshot of the ingest server's counters, for metrics.
public struct IngestStatistics: Sendable, Equatable {
    /// Connections accepted since the server started.
    public var connectionsAccepted = 0
    /// Connections open now.
    public var connectionsOpen = 0
    /// Lines received (hellos excluded, empty lines included).
    public var lines = 0
    /// Bytes received.
    public var bytes = 0
    /// Lines refused before they reached the engine: malformed, over-long or with a bad field.
    public var rejectedLines = 0
    /// Ack lines written.
    public var acks = 0

    /// Creates a snapshot.
    public init(connectionsAccepted: Int = 0, connectionsOpen: Int = 0, lines: Int = 0, bytes: Int = 0, rejectedLines: Int = 0, acks: Int = 0) {
        self.connectionsAccepted = connectionsAccepted
        self.connectionsOpen = connectionsOpen
        self.lines = lines
        self.bytes = bytes
        self.rejectedLines = rejectedLines
        self.acks = acks
    }
}

/// The live counters behind `IngestStatistics`, updated from event loops without locks.
final class IngestCounters: Sendable {
    /// Connections accepted since the server started.
    let connectionsAccepted = Atomic<Int>(0)
    /// Connections open now.
    let connectionsOpen = Atomic<Int>(0)
    /// Lines received.
    let lines = Atomic<Int>(0)
    /// Bytes received.
    let bytes = Atomic<Int>(0)
    /// Lines refused before they reached the engine.
    let rejectedLines = Atomic<Int>(0)
    /// Ack lines written.
    let acks = Atomic<Int>(0)

    /// The current values.
    var snapshot: IngestStatistics {
        IngestStatistics(
            connectionsAccepted: connectionsAccepted.load(ordering: .relaxed),
            connectionsOpen: connectionsOpen.load(ordering: .relaxed),
            lines: lines.load(ordering: .relaxed),
            bytes: bytes.load(ordering: .relaxed),
            rejectedLines: rejectedLines.load(ordering: .relaxed),
            acks: acks.load(ordering: .relaxed))
    }
}
