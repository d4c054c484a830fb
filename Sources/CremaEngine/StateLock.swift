import Foundation
import Synchronization

/// The lock of a group's rows in memory, exclusive, with readers first: the writer holds it
/// briefly, once per slice of work, and before each hold lets in the readers already
/// waiting. (With a plain mutex the writer takes the lock again before a woken reader runs,
/// so a read waited for many holds: 22–35 ms while ingesting, `crema bench read --scenarios
/// ingesting`.)
final class StateLock: @unchecked Sendable {
    private let mutex = NSLock()
    /// Readers blocked in `withReaderLock`, not holding the lock yet.
    private let waitingReaders = Atomic<Int>(0)
    /// The longest a writer defers to waiting readers before it takes the lock anyway, in µs.
    private static let longestWriterDeferral = 5_000
    /// The writer's pause while it defers, in µs.
    private static let writerPause: UInt32 = 20

    /// Runs `body` holding the lock, ahead of the writer's next hold (a reader's hold).
    func withReaderLock<Value, Failure: Error>(_ body: () throws(Failure) -> Value) throws(Failure) -> Value {
        waitingReaders.add(1, ordering: .relaxed)
        mutex.lock()
        waitingReaders.subtract(1, ordering: .relaxed)
        defer { mutex.unlock() }
        return try body()
    }

    /// Runs `body` holding the lock, once the readers waiting have had their turn, or after
    /// `longestWriterDeferral` when they keep coming (the writer's hold).
    func withWriterLock<Value, Failure: Error>(_ body: () throws(Failure) -> Value) throws(Failure) -> Value {
        var deferred = 0
        while waitingReaders.load(ordering: .relaxed) > 0 && deferred < Self.longestWriterDeferral {
            usleep(Self.writerPause)
            deferred += Int(Self.writerPause)
        }
        mutex.lock()
        defer { mutex.unlock() }
        return try body()
    }
}
