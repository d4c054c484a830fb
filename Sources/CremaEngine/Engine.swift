import CremaAggregation
import CremaSpec
import CremaStorage
import Foundation
import Logging
import Synchronization

/// Applies events through the compiled plan, commits them durably, and answers reads.
///
/// One writer thread applies every event (no locks on aggregate state beyond each group
/// table's lock, which readers share and the writer takes per slice of events); a micro-batch
/// of everything submitted since the last commit becomes one RocksDB WriteBatch holding the
/// raw events, the producers' last `seq` and the next arrival number, and its submitters are
/// answered once it is in the WAL; changed rows follow in later checkpoints, a few at a time.
public final class Engine: IngestSink, @unchecked Sendable {
    /// The compiled spec being served.
    public var spec: CompiledSpec { plan.spec }

    let plan: Plan
    let database: Database
    let configuration: EngineConfiguration
    let logger: Logger

    /// Rows in memory, one table per group (parallel to `plan.groups`), each with its lock.
    let tables: [GroupTable]

    /// Guards `settledSequences` and `counters`.
    let settledLock = NSLock()
    /// The highest settled `seq` of each producer.
    var settledSequences: [String: UInt64]
    /// Totals since start.
    var counters = EngineCounters()

    private let queue = SubmissionQueue()
    /// Stored rows reads found only in RocksDB, for the writer to bring into memory.
    let rowLoads: RowLoadRequests
    /// Reads in progress: the writer loads requested rows only while there are none.
    let readsInProgress = Atomic<Int>(0)
    private let writerFinished = DispatchSemaphore(value: 0)
    /// Writer-only: the next arrival sequence number.
    var nextArrival: UInt64
    /// Writer-only: when the log was last trimmed.
    var lastLogTrim: Int64 = 0
    /// Writer-only: the stored rows reflect every event with a lower arrival sequence.
    var checkpointMark: UInt64
    /// Writer-only: when the last pass of the expiry sweep started.
    var lastExpirySweep = ContinuousClock.now
    /// Writer-only: where the expiry sweep's pass goes on, or nil between passes.
    var expirySweepCursor: (group: Int, slot: Int)?
    /// Set when a commit failed: the engine no longer accepts events.
    var failure: EngineError?

    /// Opens the engine on `database`, restoring producer offsets and the arrival sequence.
    public init(
        spec: CompiledSpec, database: Database, configuration: EngineConfiguration = EngineConfiguration(),
        logger: Logger = Logger(label: "crema.engine")
    ) throws(EngineError) {
        plan = try Plan(spec: spec)
        rowLoads = RowLoadRequests(groups: plan.groups.count)
        self.database = database
        self.configuration = configuration
        self.logger = logger
        do {
            settledSequences = try MetaStore.producerSequences(in: database)
            nextArrival = try MetaStore.nextArrival(in: database)
            checkpointMark = try MetaStore.checkpoint(in: database)
            tables = try plan.groups.map { group in
                GroupTable(freshness: group.freshness, holdsEveryStoredRow: try !Self.hasStoredRows(of: group, in: database))
            }
        } catch {
            throw EngineError(.storage, "reading the engine's metadata: \(error)")
        }
        try replayLog()
        // Weak, so that once the writer returns the thread holds nothing (the database closes
        // as soon as the engine is released after `shutdown()`).
        let finished = writerFinished
        let thread = Thread { [weak self] in
            self?.runWriter()
            finished.signal()
        }
        thread.name = "crema-writer"
        thread.start()
    }

    /// Whether `rows` holds any row of `group`.
    private static func hasStoredRows(of group: GroupPlan, in database: Database) throws -> Bool {
        let prefix = RowKey.prefix(groupID: group.definition.id)
        var found = false
        try database.scan(in: .rows, from: prefix) { key, _ in
            found = key.starts(with: prefix)
            return false
        }
        return found
    }

    /// The highest `seq` already settled for `producer` (0 for a new one).
    public func lastSequence(of producer: String) -> UInt64 {
        settledLock.withLock { settledSequences[producer] ?? 0 }
    }

    /// Applies `batch` and calls `completion` once it is durable, on the writer's thread (or at
    /// once, on the calling thread, when the engine is shutting down). Compresses the end of the
    /// batch's log segment on the calling thread, so that the writer does not.
    public func submit(_ batch: IngestBatch, completion: @escaping @Sendable (Result<IngestOutcome, any Error>) -> Void) {
        let logSegment = batch.logSegment()
        if !queue.push(Submission(batch: batch, logSegment: logSegment, completion: completion)) {
            completion(.failure(EngineError(.unavailable, "the engine is shutting down")))
        }
    }

    /// Applies `batch` and returns once it is durable.
    public func submit(_ batch: IngestBatch) async throws -> IngestOutcome {
        try await withCheckedThrowingContinuation { continuation in
            submit(batch) { continuation.resume(with: $0) }
        }
    }

    /// Commits everything submitted so far, answers its submitters and stops the writer.
    /// Later submissions fail with `.unavailable`. Call it before releasing the engine.
    public func shutdown() {
        queue.close()
        writerFinished.wait()
        writerFinished.signal()
    }

    /// Totals since the engine started.
    public var statistics: EngineCounters {
        settledLock.withLock { counters }
    }

    /// The server clock now, in epoch ms.
    public var now: Int64 { configuration.clock() }

    /// The number of rows held in memory, over all groups.
    public var rowsInMemory: Int {
        tables.reduce(0) { total, table in total + table.lock.withReaderLock { table.rows.count } }
    }

    /// The estimated memory of the rows in memory as of the last checkpoint (bytes), which
    /// `EngineConfiguration.rowMemoryBudget` bounds.
    public var estimatedRowMemory: Int {
        tables.reduce(0) { total, table in total + table.lock.withReaderLock { table.eviction.totalBytes } }
    }

    /// Asks the writer to bring the stored rows of `keys` of group `group` into memory, so
    /// that later reads of them are served from memory (``loadRequestedRows()``).
    func requestRowLoads(_ keys: some Sequence<[UInt8]>, group: Int) {
        if rowLoads.add(keys, group: group) { queue.wake() }
    }

    private func runWriter() {
        // Rows waiting to be loaded for reads are tried again soon, after the reads in progress.
        while var submissions = queue.take(
            maxEvents: configuration.maxBatchEvents, waitingAtMost: rowLoads.isEmpty ? configuration.checkpointInterval : .milliseconds(5)
        ) {
            if let failure {
                submissions.forEach { $0.completion(.failure(failure)) }
                continue
            }
            let events = submissions.reduce(0) { $0 + $1.batch.events.count }
            do {
                if !submissions.isEmpty {
                    let outcomes = try commit(submissions.map(\.batch), logSegments: submissions.map(\.logSegment))
                    let completions = submissions.map(\.completion)
                    // The writer lets go of the batches before answering: their submitters,
                    // which hold them until answered, then free them on their own threads
                    // (freeing 3M decoded events took the writer 1.3 s of CPU). Nothing is
                    // answered twice if a later step fails.
                    submissions = []
                    for (completion, outcome) in zip(completions, outcomes) {
                        completion(.success(outcome))
                    }
                }
                // While events flow, each step writes at most a few rows per event committed, so
                // that no commit waits long behind it; when idle, every due row.
                try checkpoint(limit: events == 0 ? .max : max(8_192, 4 * events))
                try loadRequestedRows()
                sweepExpiredRows()
                trimLogIfDue(now: configuration.clock())
            } catch {
                failure = error
                logger.error("commit failed, no longer accepting events: \(error)")
                submissions.forEach { $0.completion(.failure(error)) }
            }
        }
        guard failure == nil else { return }
        do {
            try checkpoint(everything: true)
        } catch {
            logger.error("the final checkpoint failed; the log replays it at the next start: \(error)")
        }
    }
}

/// Event totals since the engine started.
public struct EngineCounters: Sendable, Equatable {
    /// Events applied (including late ones).
    public var accepted = 0
    /// Events skipped as already settled for their producer.
    public var duplicates = 0
    /// Accepted events too old for every window they feed.
    public var late = 0
    /// Events refused by the engine (too far in the future).
    public var rejected = 0
    /// Group commits written.
    public var commits = 0
    /// Row checkpoints written.
    public var checkpoints = 0
    /// Rows written by checkpoints (a row changed again after it was written counts again).
    public var rowsWritten = 0
    /// The writer's time in checkpoints: encoding and writing rows (across the cores) and the mark.
    public var checkpointTime = Duration.zero
    /// Expired rows removed from memory.
    public var expiredRows = 0
}
