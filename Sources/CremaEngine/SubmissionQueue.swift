import CremaStorage
import Foundation

/// One batch waiting for the writer, with what answers its submitter.
struct Submission {
    let batch: IngestBatch
    /// The batch's events as the log keeps them, compressed by the submitter.
    let logSegment: LogSegment
    /// Called once, on the writer's thread, with the batch's outcome.
    let completion: @Sendable (Result<IngestOutcome, any Error>) -> Void
}

/// The hand-off between submitters (any thread) and the single writer thread.
final class SubmissionQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [Submission] = []
    private var isClosed = false
    /// Set by `wake()`: the writer has other work than submissions.
    private var isWoken = false

    /// Adds a submission; false once the queue is closed.
    func push(_ submission: Submission) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosed else { return false }
        pending.append(submission)
        condition.signal()
        return true
    }

    /// Waits up to `timeout` for submissions and takes them, up to about `maxEvents` events (at
    /// least one submission); empty when the time ran out or `wake()` was called, nil once the
    /// queue is closed and drained.
    func take(maxEvents: Int, waitingAtMost timeout: Duration) -> [Submission]? {
        condition.lock()
        defer { condition.unlock() }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let deadline = Date(timeIntervalSinceNow: seconds)
        while pending.isEmpty && !isClosed && !isWoken {
            if !condition.wait(until: deadline) { return [] }
        }
        isWoken = false
        if pending.isEmpty { return isClosed ? nil : [] }
        var events = 0
        var count = 0
        while count < pending.count && (count == 0 || events + pending[count].batch.events.count <= maxEvents) {
            events += pending[count].batch.events.count
            count += 1
        }
        let taken = Array(pending.prefix(count))
        pending.removeFirst(count)
        return taken
    }

    /// Ends the writer's wait in `take` now (it takes nothing if nothing is queued).
    func wake() {
        condition.lock()
        isWoken = true
        condition.signal()
        condition.unlock()
    }

    /// Refuses further submissions; what is queued is still taken.
    func close() {
        condition.lock()
        isClosed = true
        condition.broadcast()
        condition.unlock()
    }
}
