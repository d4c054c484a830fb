import CremaEngine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ingest protocol of one connection, as a value state machine: each method takes what
/// arrived (bytes, the end of a read burst, the end of input, an answer from the sink) and
/// returns the actions to carry out, in order. It does no I/O itself.
///
/// Decisions beyond DESIGN.md:
/// - The first line is a hello when it is an object with a top-level `producer` key; it
///   must then hold only that key, a non-empty string of at most 256 bytes. While its
///   `last_seq` is looked up, input is held (reading stops) so that the reply comes first.
/// - At most one batch is submitted at a time (so the engine sees a producer's `seq` in
///   order); the next one accumulates meanwhile and is submitted when the first is acked.
///   Reading stops while that next batch is full, while the socket is not writable, and
///   while a hello is looked up; memory per connection stays within two batches, one
///   line and one read burst.
/// - A line made only of rejected or empty lines is acked without a submission.
/// - A failed submission or hello lookup gets `{"error": "...", "line": 0}` and a close:
///   line 0 is a connection-level error.
/// - At the end of input, an unterminated last line is still a line. On `drain()`
///   (server shutdown), unprocessed input is dropped (it was never acked); decoded events
///   are still submitted and acked before the close.
struct IngestConnection {
    /// Limits of one connection.
    struct Configuration: Sendable {
        /// The longest line accepted, in bytes, excluding the newline (and a trailing CR).
        var maximumLineLength = 1 << 20
        /// The most events in one batch.
        var maximumBatchEvents = 4096
        /// The most raw event bytes in one batch.
        var maximumBatchBytes = 4 << 20
    }

    /// What the channel handler must do.
    enum Action {
        /// Write this line (a newline is appended).
        case write(String)
        /// Ask the sink for the producer's last settled `seq`; answer with `producerLookedUp`.
        case lookUpProducer(String)
        /// Submit the batch to the sink; answer with `batchCompleted` or `batchFailed`.
        case submit(IngestBatch)
        /// Stop reading from the socket.
        case stopReading
        /// Read from the socket again.
        case resumeReading
        /// Close the connection once everything written is flushed.
        case close
    }

    private enum Phase {
        case awaitingFirstLine
        case awaitingProducer(String)
        case streaming
        case closed
    }

    /// Lines consumed since the last batch was handed off.
    private struct PendingBatch {
        var batch = IngestBatch(producer: nil)
        var bytes = 0
        var rejected = 0
        var throughLine = 0
    }

    private let configuration: Configuration
    private let rules: EventLineRules
    private var phase = Phase.awaitingFirstLine
    private var producer: String?
    /// The start of a line whose newline has not arrived yet.
    private var carry: [UInt8] = []
    /// Whether the rest of an over-long line (already reported) is being dropped.
    private var isDiscardingLine = false
    /// Input received while processing was blocked, processed once it is unblocked.
    private var stash: [UInt8] = []
    private var pending = PendingBatch()
    /// The batch being applied by the sink: its last line and its decoding rejections.
    private var inFlight: (throughLine: Int, rejected: Int)?
    /// The last line handed off (submitted or acked).
    private var handedOffThroughLine = 0
    private var totals = IngestTotals()
    private var isInputEnded = false
    private var isDraining = false
    private var isWritable = true
    private var isReading = true

    /// The number of lines numbered so far (the hello excluded).
    private(set) var lineCount = 0
    /// The number of lines refused while decoding (the engine's rejections are not counted).
    private(set) var rejectedLineCount = 0
    /// The number of ack lines written.
    private(set) var ackCount = 0

    /// Creates the state of a new connection.
    init(decoder: EventDecoder, configuration: Configuration = Configuration()) {
        rules = EventLineRules(decoder: decoder, maximumLineLength: configuration.maximumLineLength)
        self.configuration = configuration
    }

    /// Whether the connection is finished (a close was requested).
    var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    // MARK: Inputs

    /// Bytes arrived from the socket.
    /// - Complexity: O(bytes), plus decoding each complete line.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) -> [Action] {
        var actions: [Action] = []
        guard !isClosed, !isDraining, !isInputEnded else { return actions }
        consume(bytes, into: &actions)
        updateReading(&actions)
        return actions
    }

    /// The read burst ended: submit what accumulated.
    mutating func readComplete() -> [Action] {
        var actions: [Action] = []
        guard !isClosed else { return actions }
        handOff(&actions)
        updateReading(&actions)
        return actions
    }

    /// The producer half-closed or closed the connection: flush, wait for the last ack, close.
    mutating func inputEnded() -> [Action] {
        var actions: [Action] = []
        guard !isClosed, !isInputEnded else { return actions }
        isInputEnded = true
        resume(&actions)
        return actions
    }

    /// The server is shutting down: stop reading, drop unprocessed input, settle what was
    /// decoded, then close.
    mutating func drain() -> [Action] {
        var actions: [Action] = []
        guard !isClosed, !isDraining else { return actions }
        isDraining = true
        stash = []
        carry = []
        resume(&actions)
        return actions
    }

    /// The socket's writability changed.
    mutating func writabilityChanged(isWritable: Bool) -> [Action] {
        var actions: [Action] = []
        guard !isClosed else { return actions }
        self.isWritable = isWritable
        updateReading(&actions)
        return actions
    }

    /// The sink answered a `lookUpProducer`.
    mutating func producerLookedUp(lastSequence: UInt64) -> [Action] {
        var actions: [Action] = []
        guard case .awaitingProducer(let name) = phase else { return actions }
        producer = name
        phase = .streaming
        actions.append(.write(ReplyLine.hello(producer: name, lastSequence: lastSequence)))
        resume(&actions)
        return actions
    }

    /// A `lookUpProducer` failed.
    mutating func producerLookupFailed(_ message: String) -> [Action] {
        var actions: [Action] = []
        guard case .awaitingProducer = phase else { return actions }
        fail("producer lookup failed: \(message)", into: &actions)
        return actions
    }

    /// The sink applied the batch in flight: report its rejections, then ack.
    mutating func batchCompleted(_ outcome: IngestOutcome) -> [Action] {
        var actions: [Action] = []
        guard !isClosed, let batch = inFlight else { return actions }
        inFlight = nil
        for rejection in outcome.rejections.sorted(by: { $0.line < $1.line }) {
            actions.append(.write(ReplyLine.error(rejection.message, line: rejection.line)))
        }
        totals.accepted += outcome.accepted
        totals.duplicates += outcome.duplicates
        totals.late += outcome.late
        totals.rejected += batch.rejected + outcome.rejections.count
        actions.append(.write(ReplyLine.ack(batch.throughLine, totals)))
        ackCount += 1
        resume(&actions)
        return actions
    }

    /// The sink failed to apply the batch in flight: nothing of it is acked; close.
    mutating func batchFailed(_ message: String) -> [Action] {
        var actions: [Action] = []
        guard !isClosed, inFlight != nil else { return actions }
        fail("ingest failed: \(message)", into: &actions)
        return actions
    }

    // MARK: Processing

    /// Whether lines cannot be processed now (their results would have nowhere to go).
    private var isBlocked: Bool {
        if case .awaitingProducer = phase { return true }
        return inFlight != nil && isPendingFull
    }

    private var isPendingFull: Bool {
        pending.batch.events.count >= configuration.maximumBatchEvents || pending.bytes >= configuration.maximumBatchBytes
    }

    /// Processes held input, the end of input, hands off and closes, as far as possible.
    private mutating func resume(_ actions: inout [Action]) {
        // A full batch waiting for the one in flight goes first, so held input has room.
        if isPendingFull { handOff(&actions) }
        if !stash.isEmpty, !isBlocked {
            let held = stash
            stash = []
            held.withUnsafeBytes { consume($0, into: &actions) }
        }
        if isInputEnded, !isDraining, stash.isEmpty, !isBlocked, !carry.isEmpty || isDiscardingLine {
            let last = carry
            carry = []
            if !isDiscardingLine { last.withUnsafeBytes { handleLine($0, into: &actions) } }
            isDiscardingLine = false
        }
        handOff(&actions)
        closeIfDone(&actions)
        updateReading(&actions)
    }

    private mutating func consume(_ bytes: UnsafeRawBufferPointer, into actions: inout [Action]) {
        var index = 0
        while index < bytes.count {
            if isBlocked || isClosed {
                if !isClosed { stash.append(contentsOf: bytes[index...]) }
                return
            }
            // memchr scans with vector instructions; a byte loop over each line took ~2 % of a
            // `crema bench ingest` run's CPU.
            guard let found = memchr(bytes.baseAddress! + index, Int32(UInt8(ascii: "\n")), bytes.count - index) else {
                appendPartialLine(UnsafeRawBufferPointer(rebasing: bytes[index...]), into: &actions)
                return
            }
            let newline = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
            let segment = UnsafeRawBufferPointer(rebasing: bytes[index..<newline])
            index = newline + 1
            if isDiscardingLine {
                isDiscardingLine = false
            } else if carry.isEmpty {
                handleLine(segment, into: &actions)
            } else {
                carry.append(contentsOf: segment)
                let line = carry
                carry.removeAll(keepingCapacity: carry.capacity <= 1 << 16)
                line.withUnsafeBytes { handleLine($0, into: &actions) }
            }
        }
    }

    /// Keeps the start of a line, or reports it as over-long as soon as it is known to be.
    private mutating func appendPartialLine(_ segment: UnsafeRawBufferPointer, into actions: inout [Action]) {
        if isDiscardingLine { return }
        // One byte more than the limit may still be a trailing CR.
        if carry.count + segment.count > configuration.maximumLineLength + 1 {
            carry = []
            isDiscardingLine = true
            if case .awaitingFirstLine = phase { phase = .streaming }
            lineCount += 1
            reject(rules.overLongMessage, line: lineCount, into: &actions)
            finishLine(&actions)
        } else {
            carry.append(contentsOf: segment)
        }
    }

    /// Handles one complete line (without its newline).
    private mutating func handleLine(_ rawLine: UnsafeRawBufferPointer, into actions: inout [Action]) {
        var line = rawLine
        if let last = line.last, last == UInt8(ascii: "\r") {
            line = UnsafeRawBufferPointer(rebasing: line.dropLast())
        }
        if case .awaitingFirstLine = phase {
            phase = .streaming
            if line.count <= configuration.maximumLineLength {
                switch ProducerHello(line: line) {
                case .notHello: break
                case .hello(let name):
                    phase = .awaitingProducer(name)
                    actions.append(.lookUpProducer(name))
                    return
                case .malformed(let message):
                    fail(message, into: &actions)
                    return
                }
            }
        }
        lineCount += 1
        defer { finishLine(&actions) }
        switch rules.add(line, number: lineCount, expectsSequence: producer != nil, to: &pending.batch) {
        case .appended: pending.bytes += line.count
        case .skipped: break
        case .rejected(let message): reject(message, line: lineCount, into: &actions)
        }
    }

    private mutating func reject(_ message: String, line: Int, into actions: inout [Action]) {
        actions.append(.write(ReplyLine.error(message, line: line)))
        pending.rejected += 1
        rejectedLineCount += 1
    }

    private mutating func finishLine(_ actions: inout [Action]) {
        pending.throughLine = lineCount
        if isPendingFull { handOff(&actions) }
    }

    /// Submits the pending batch (or acks it directly when it has no events) unless one is in flight.
    private mutating func handOff(_ actions: inout [Action]) {
        guard inFlight == nil, !isClosed, pending.throughLine > handedOffThroughLine else { return }
        handedOffThroughLine = pending.throughLine
        if pending.batch.events.isEmpty {
            totals.rejected += pending.rejected
            actions.append(.write(ReplyLine.ack(pending.throughLine, totals)))
            ackCount += 1
        } else {
            inFlight = (pending.throughLine, pending.rejected)
            pending.batch.producer = producer
            actions.append(.submit(pending.batch))
        }
        pending = PendingBatch(throughLine: pending.throughLine)
    }

    private mutating func closeIfDone(_ actions: inout [Action]) {
        guard isInputEnded || isDraining, !isClosed, inFlight == nil, stash.isEmpty,
              pending.throughLine == handedOffThroughLine
        else { return }
        if case .awaitingProducer = phase { return }
        phase = .closed
        actions.append(.close)
    }

    private mutating func fail(_ message: String, into actions: inout [Action]) {
        actions.append(.write(ReplyLine.error(message, line: 0)))
        actions.append(.close)
        phase = .closed
        stash = []
        carry = []
        pending = PendingBatch()
        inFlight = nil
    }

    private mutating func updateReading(_ actions: inout [Action]) {
        guard !isClosed else { return }
        let wantsToRead = !isClosed && !isInputEnded && !isDraining && !isBlocked && isWritable && stash.isEmpty
        guard wantsToRead != isReading else { return }
        isReading = wantsToRead
        actions.append(wantsToRead ? .resumeReading : .stopReading)
    }
}
