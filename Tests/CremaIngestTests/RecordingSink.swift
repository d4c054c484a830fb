import CremaEngine
import Synchronization

/// An in-test `IngestSink` that records every batch and follows the engine's rules for
/// producers (a `seq` at or below the last settled one is a duplicate) and for events
/// too far in the future (rejected with an error).
final class RecordingSink: IngestSink {
    private struct State {
        var batches: [IngestBatch] = []
        var lastSequences: [String: UInt64] = [:]
    }

    private let state = Mutex(State())
    /// Events with a time past this are rejected, like the engine's `max_future`.
    let latestAcceptedTime: Int64

    init(latestAcceptedTime: Int64 = 4_000_000_000_000) {
        self.latestAcceptedTime = latestAcceptedTime
    }

    /// Every batch submitted so far, in order.
    var batches: [IngestBatch] { state.withLock { $0.batches } }

    /// Every event submitted so far, in order.
    var events: [DecodedEvent] { batches.flatMap(\.events) }

    func lastSequence(of producer: String) async throws -> UInt64 {
        state.withLock { $0.lastSequences[producer] ?? 0 }
    }

    func submit(_ batch: IngestBatch) async throws -> IngestOutcome {
        state.withLock { state in
            state.batches.append(batch)
            var outcome = IngestOutcome()
            for event in batch.events {
                if let producer = batch.producer {
                    let settled = state.lastSequences[producer] ?? 0
                    if event.sequence <= settled {
                        outcome.duplicates += 1
                        continue
                    }
                    state.lastSequences[producer] = event.sequence
                }
                if let time = event.time, time > latestAcceptedTime {
                    outcome.rejections.append(.init(line: event.line, message: "event time \(time) is more than max_future ahead"))
                } else {
                    outcome.accepted += 1
                }
            }
            return outcome
        }
    }
}
