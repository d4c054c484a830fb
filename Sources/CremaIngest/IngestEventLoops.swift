import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The event loops of the ingest socket: a group of their own, so that a producer's read burst
/// never holds up a ranker's request on a shared loop, whose threads run at a lower CPU priority
/// (a higher nice value, on Linux), so that when the cores are short the writer and the reads get
/// them first and decoding takes the rest. Producers then wait a little longer for their acks
/// (backpressure), rankers do not.
public enum IngestEventLoops {
    /// The nice value of the ingest threads: 10 gives a thread about a ninth of the weight of
    /// one at the default 0 when both want a core.
    public static let niceness: Int32 = 10

    /// A group of `threads` event loops whose threads run at `niceness`, or at the process's nice
    /// value if that is higher. Shut it down after the ingest server has stopped.
    public static func makeGroup(threads: Int = System.coreCount, niceness: Int32 = niceness) async throws -> MultiThreadedEventLoopGroup {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        #if os(Linux)
        for loop in group.makeIterator() {
            // On Linux the nice value belongs to the thread: `who` 0 is the calling thread, which
            // started with the process's value; a process already nicer keeps its own.
            try await loop.submit {
                let inherited = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, max(inherited, niceness))
            }.get()
        }
        #endif
        return group
    }
}
