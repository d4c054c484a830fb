import NIOCore
import NIOPosix
import Testing

@testable import CremaIngest

#if canImport(Glibc)
import Glibc
#endif

@Suite("Ingest event loops")
struct IngestEventLoopsTests {
    @Test("the ingest group's threads run at the ingest nice value (or the process's, if higher), other threads keep theirs")
    func niceness() async throws {
        let group = try await IngestEventLoops.makeGroup(threads: 2)
        #if os(Linux)
        let processNice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let expected = max(processNice, IngestEventLoops.niceness)
        var values: [Int32] = []
        for loop in group.makeIterator() {
            values.append(try await loop.submit { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }.get())
        }
        #expect(values == [expected, expected])
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == processNice)
        #endif
        try await group.shutdownGracefully()
    }
}
