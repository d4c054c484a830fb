import Foundation
import Synchronization
import Testing

@testable import CremaEngine

@Suite("StateLock")
struct StateLockTests {
    /// A writer taking the lock back to back (each hold 1 ms of busy work, as applying events is)
    /// lets a waiting reader in after the hold in progress, and at most one more that began as
    /// the reader arrived; a plain mutex lets the writer take it again and again before the
    /// woken reader runs.
    @Test func aWaitingReaderGoesBeforeTheWritersNextHolds() async throws {
        let lock = StateLock()
        let writerHolds = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let writer = Thread {
            while !stop.load(ordering: .relaxed) {
                lock.withWriterLock {
                    let end = ContinuousClock.now + .milliseconds(1)
                    while ContinuousClock.now < end {}
                    writerHolds.add(1, ordering: .relaxed)
                }
            }
        }
        writer.start()
        defer { stop.store(true, ordering: .relaxed) }
        while writerHolds.load(ordering: .relaxed) < 3 { usleep(100) }

        var holdsWhileWaiting: [Int] = []
        for _ in 0..<30 {
            let before = writerHolds.load(ordering: .relaxed)
            let during = lock.withReaderLock { writerHolds.load(ordering: .relaxed) - before }
            holdsWhileWaiting.append(during)
            usleep(300)
        }
        #expect(holdsWhileWaiting.allSatisfy { $0 <= 3 }, "writer holds while a reader waited: \(holdsWhileWaiting)")
        #expect(writerHolds.load(ordering: .relaxed) > 3, "the writer went on between reads")
    }

    /// The lock is exclusive: a reader and the writer never hold it at once.
    @Test func readersAndTheWriterExcludeEachOther() async throws {
        let lock = StateLock()
        let holders = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for _ in 0..<2_000 {
                let hold = {
                    if holders.add(1, ordering: .relaxed).newValue > 1 { overlaps.add(1, ordering: .relaxed) }
                    holders.subtract(1, ordering: .relaxed)
                }
                if worker == 0 { lock.withWriterLock(hold) } else { lock.withReaderLock(hold) }
            }
        }
        #expect(overlaps.load(ordering: .relaxed) == 0)
    }
}
