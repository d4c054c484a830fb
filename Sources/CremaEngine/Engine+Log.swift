import CremaStorage

extension Engine {
    /// The retained raw events with arrival number ≥ `sequence`, in arrival order: what replay,
    /// backfill and training data read.
    /// - Complexity: O(log blocks + events retained after `sequence`): reading starts at the
    ///   block holding `sequence` (a block's key is its first arrival number).
    public func loggedEvents(from sequence: UInt64 = 0) throws(EngineError) -> [LogRecord] {
        var records: [LogRecord] = []
        do {
            let start = try database.lastKey(in: .log, notAfter: LogCodec.key(sequence: sequence))
            try database.scan(in: .log, from: start) { _, value in
                records.append(contentsOf: try LogCodec.decodeBlock(value).filter { $0.arrivalSequence >= sequence })
                return true
            }
        } catch {
            throw EngineError(.storage, "reading the event log: \(error)")
        }
        return records
    }

    /// Deletes log blocks whose events all arrived more than `retainEvents` ago; runs at most
    /// once a minute of server time, and never past the rows checkpoint (writer thread).
    func trimLogIfDue(now: Int64) {
        guard now - lastLogTrim >= 60_000 else { return }
        lastLogTrim = now
        let cutoff = now - configuration.retainEvents
        var firstKept: [UInt8]?
        var hasExpired = false
        do {
            try database.scan(in: .log) { key, value in
                // Keep what the stored rows do not reflect yet: recovery replays it.
                if let summary = try LogCodec.summary(of: value), summary.newestArrivalTime < cutoff,
                   summary.lastArrival < checkpointMark {
                    hasExpired = true
                    return true
                }
                firstKept = Array(key)
                return false
            }
            guard hasExpired else { return }
            // Checkpoints skip the WAL: the mark trimming relies on must be on disk first.
            try database.flush()
            try database.deleteRange(
                in: .log, from: LogCodec.key(sequence: 0), to: firstKept ?? LogCodec.key(sequence: .max)
            )
        } catch {
            logger.warning("trimming the event log failed: \(error)")
        }
    }
}
