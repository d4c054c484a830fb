import CremaAggregation
import CremaEngine
import CremaStorage
@testable import CremaIngest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

@Suite("IngestServer", .serialized)
struct IngestServerTests {
    /// Binds a Unix socket at `path` and closes it without removing the file.
    private func makeStaleSocketFile(at path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        let result = try SocketAddress(unixDomainSocketPath: path).withSockAddr { bind(descriptor, $0, socklen_t($1)) }
        #expect(result == 0)
    }

    private func fileExists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    @Test func servesConcurrentProducersOverTCP() async throws {
        try await withLiveEngine { live in
            // Every 50th line misses user_id; the others are views of video v<client>.
            func events(_ client: Int) -> [ViewEvent] {
                (1...300).filter { $0 % 50 != 0 }.map { ViewEvent(seq: $0, user: "c\(client)", video: "v\(client)", watch: Int64($0)) }
            }
            try await withServer(live) { server, address in
                guard case .tcp(_, let port) = address else { Issue.record("not TCP"); return }
                #expect(port > 0)
                try await withThrowingTaskGroup(of: IngestClient.Summary.self) { group in
                    for client in 0..<4 {
                        group.addTask {
                            var text = ""
                            for sequence in 1...300 {
                                text += sequence % 50 == 0
                                    ? "{\"type\": \"view\", \"seq\": \(sequence)}\n"
                                    : ViewEvent(seq: sequence, user: "c\(client)", video: "v\(client)", watch: Int64(sequence)).line + "\n"
                            }
                            let summary = try await IngestClient(address: address, producer: "producer-\(client)").send(chunked(text, size: 777))
                            #expect(summary.lastSequence == 0)
                            return summary
                        }
                    }
                    for try await summary in group {
                        #expect(summary.linesSent == 300)
                        #expect(summary.acknowledgedLine == 300)
                        #expect(summary.totals == IngestTotals(accepted: 294, rejected: 6))
                        #expect(summary.errors.map(\.line) == [50, 100, 150, 200, 250, 300])
                        #expect(summary.errors.allSatisfy { $0.message == "missing field user_id" })
                    }
                }
                let statistics = server.statistics
                #expect(statistics.connectionsAccepted == 4)
                #expect(statistics.lines == 1200)
                #expect(statistics.bytes > 0)
            }
            try live.expectHoldsExactlyOnce((0..<4).flatMap(events))
            #expect(live.engine.statistics.accepted == 4 * 294)
            for client in 0..<4 {
                let log = try live.log(of: "producer-\(client)")
                #expect(log.map(\.producerSequence) == events(client).map { UInt64($0.seq!) })
                #expect(log.map { String(decoding: $0.line, as: UTF8.self) } == events(client).map(\.line))
                #expect(live.engine.lastSequence(of: "producer-\(client)") == 299)
            }
        }
    }

    @Test func servesAUnixSocketReplacingAStaleSocketFile() async throws {
        try await withLiveEngine { live in
            let path = live.directory.appendingPathComponent("ingest.sock").path
            // A socket file left behind by a server that is gone.
            try makeStaleSocketFile(at: path)
            #expect(fileExists(path))
            func events(_ client: Int) -> [ViewEvent] {
                (0..<100).map { ViewEvent(user: "unix-\(client)", video: "v\($0 % 7)", watch: Int64(client * 1000 + $0)) }
            }
            try await withServer(live, on: try IngestAddress(parsing: "unix:\(path)")) { _, address in
                #expect(address == .unix(path: path))
                try await withThrowingTaskGroup(of: IngestClient.Summary.self) { group in
                    for client in 0..<3 {
                        group.addTask {
                            let text = events(client).map(\.line).joined(separator: "\r\n")
                            return try await IngestClient(address: address).send(chunked(text, size: 100))
                        }
                    }
                    for try await summary in group {
                        #expect(summary.linesSent == 100)
                        #expect(summary.acknowledgedLine == 100)
                        #expect(summary.totals == IngestTotals(accepted: 100))
                        #expect(summary.lastSequence == nil)
                    }
                }
            }
            #expect(!fileExists(path))
            try live.expectHoldsExactlyOnce((0..<3).flatMap(events))
            // Anonymous events are logged without a producer or seq, each line once (CR dropped).
            let log = try live.engine.loggedEvents()
            #expect(log.count == 300)
            #expect(log.allSatisfy { $0.producer.isEmpty && $0.producerSequence == 0 })
            #expect(Set(log.map { String(decoding: $0.line, as: UTF8.self) }) == Set((0..<3).flatMap(events).map(\.line)))
        }
    }

    @Test func resendsAfterReconnectAreDuplicates() async throws {
        try await withLiveEngine { live in
            func event(_ seq: Int) -> ViewEvent { ViewEvent(seq: seq, user: "u\(seq % 3)", video: "v\(seq % 2)", watch: Int64(seq * 10)) }
            try await withServer(live) { _, address in
                let client = IngestClient(address: address, producer: "clicks-1")
                let first = try await client.send(chunked((1...10).map { event($0).line + "\n" }.joined()))
                #expect(first.lastSequence == 0)
                #expect(first.totals == IngestTotals(accepted: 10))
                #expect(live.engine.lastSequence(of: "clicks-1") == 10)
                let second = try await client.send(chunked((5...15).map { event($0).line + "\n" }.joined()))
                #expect(second.lastSequence == 10)
                #expect(second.totals == IngestTotals(accepted: 5, duplicates: 6))
                #expect(second.acknowledgedLine == 11)
            }
            #expect(live.engine.lastSequence(of: "clicks-1") == 15)
            try live.expectHoldsExactlyOnce((1...15).map(event))
            #expect(try live.log(of: "clicks-1").map(\.producerSequence) == Array(1...15))
            #expect(live.engine.statistics.duplicates == 6)
        }
    }

    @Test func reportsEngineRejectionsBeforeTheAck() async throws {
        try await withLiveEngine { live in
            let future = LiveSpec.start + LiveSpec.minute + 1
            try await withServer(live) { _, address in
                let text = Fixtures.viewLine() + "\n" + Fixtures.viewLine(time: future) + "\n"
                let summary = try await IngestClient(address: address).send(chunked(text))
                #expect(summary.totals == IngestTotals(accepted: 1, rejected: 1))
                #expect(summary.errors == [.init(
                    line: 2, message: "event time \(future) is more than 60000 ms ahead of the server clock (\(LiveSpec.start))")])
            }
            #expect(try live.value("video", "v9", "video_stats.total") == .int(1))
            #expect(try live.engine.loggedEvents().map { String(decoding: $0.line, as: UTF8.self) } == [Fixtures.viewLine()])
            #expect(live.engine.statistics.rejected == 1)
        }
    }

    @Test func refusesAMalformedHelloAndStaysUp() async throws {
        try await withLiveEngine { live in
            try await withServer(live) { server, address in
                // The raw exchange: one error on line 0, then the server closes.
                try await RawConnection.with(address) { connection in
                    try await connection.write("{\"producer\": 42}\n" + Fixtures.viewLine() + "\n")
                    try await connection.readToEnd()
                    #expect(connection.replies.errors == [.init(line: 0, message: "invalid hello: producer: expected string, got 42")])
                    #expect(connection.replies.lastAck == 0)
                    #expect(connection.replies.unknown.isEmpty)
                }
                // An empty producer name is malformed too.
                try await RawConnection.with(address) { connection in
                    try await connection.write("{\"producer\": \"\"}\n" + Fixtures.viewLine() + "\n")
                    try await connection.readToEnd()
                    #expect(connection.replies.errors == [.init(line: 0, message: "invalid hello: producer name is empty")])
                    #expect(connection.replies.lastAck == 0)
                }
                await #expect(throws: IngestError(code: .connectionRefused, message: "server refused the connection: invalid hello: producer: expected string, got 42")) {
                    try await IngestClient(address: address).send(chunked("{\"producer\": 42}\n" + Fixtures.viewLine() + "\n"))
                }
                #expect(live.engine.statistics.accepted == 0)
                // The server is still up and serves the next producer.
                let summary = try await IngestClient(address: address, producer: "after").send(chunked(Fixtures.viewLine(seq: 1) + "\n"))
                #expect(summary.totals == IngestTotals(accepted: 1))
                #expect(server.statistics.connectionsAccepted == 4)
            }
            #expect(try live.engine.loggedEvents().map(\.producer) == ["after"])
            #expect(try live.value("video", "v9", "video_stats.total") == .int(1))
        }
    }

    @Test func sendsAFile() async throws {
        try await withLiveEngine { live in
            let file = live.directory.appendingPathComponent("events.ndjson")
            let text = Fixtures.viewLine(seq: 1) + "\n\n" + "garbage\u{0}\n" + Fixtures.viewLine(seq: 2)
            try Data(text.utf8).write(to: file)
            try await withServer(live) { _, address in
                let reports = ProgressLog()
                let summary = try await IngestClient(address: address, producer: "file").send(path: file.path) { reports.append($0) }
                #expect(summary.linesSent == 4)
                #expect(summary.acknowledgedLine == 4)
                #expect(summary.totals == IngestTotals(accepted: 2, rejected: 1))
                #expect(summary.errors == [.init(line: 3, message: "not a JSON object")])
                #expect(reports.last?.acknowledgedLine == 4)
                #expect(reports.last?.bytesSent == text.utf8.count)
            }
            let log = try live.log(of: "file")
            #expect(log.map(\.producerSequence) == [1, 2])
            #expect(log.map { String(decoding: $0.line, as: UTF8.self) } == [Fixtures.viewLine(seq: 1), Fixtures.viewLine(seq: 2)])
            #expect(live.engine.lastSequence(of: "file") == 2)
            #expect(try live.value("user", "u1", "user_stats.watch") == .int(2400))
            await #expect(throws: IngestError.self) {
                try await IngestClient(address: .tcp(host: "127.0.0.1", port: 1)).send(path: live.directory.appendingPathComponent("missing").path)
            }
        }
    }

    @Test func gracefulShutdownAcksWhatWasReceivedThenCloses() async throws {
        try await withLiveEngine { live in
            let server = IngestServer(
                configuration: .init(address: .tcp(host: "127.0.0.1", port: 0)), spec: live.spec, sink: live.engine, logger: live.logger)
            let serviceGroup = ServiceGroup(configuration: .init(services: [server], logger: live.logger))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await serviceGroup.run() }
                let address = try await server.boundAddress()
                try await RawConnection.with(address) { connection in
                    // Two full lines and the start of a third, which is never acknowledged.
                    try await connection.write(Fixtures.viewLine() + "\n" + Fixtures.viewLine() + "\n{\"type\"")
                    // Waits (on a condition, not a duration) until the server has read both lines.
                    while server.statistics.lines < 2 { try await Task.sleep(for: .milliseconds(5)) }
                    await serviceGroup.triggerGracefulShutdown()
                    try await connection.readToEnd()
                    #expect(connection.replies.lastAck == 2)
                    #expect(connection.replies.totals == IngestTotals(accepted: 2))
                    #expect(connection.replies.errors.isEmpty)
                }
                try await group.waitForAll()
            }
            #expect(server.statistics.connectionsOpen == 0)
            #expect(try live.engine.loggedEvents().count == 2)
            #expect(try live.value("video", "v9", "video_stats.total") == .int(2))
        }
    }

    @Test func parsesAddresses() throws {
        #expect(try IngestAddress(parsing: "127.0.0.1:7070") == .tcp(host: "127.0.0.1", port: 7070))
        #expect(try IngestAddress(parsing: "[::1]:0") == .tcp(host: "::1", port: 0))
        #expect(try IngestAddress(parsing: "unix:/tmp/x.sock") == .unix(path: "/tmp/x.sock"))
        #expect(IngestAddress.tcp(host: "::1", port: 80).description == "[::1]:80")
        for bad in ["7070", "host:", "host:70000", ":80", "unix:", "host:x"] {
            #expect(throws: IngestError.self) { try IngestAddress(parsing: bad) }
        }
    }
}

/// Collects progress reports from a client's callback.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [IngestClient.Progress] = []

    func append(_ progress: IngestClient.Progress) {
        lock.withLock { reports.append(progress) }
    }

    var last: IngestClient.Progress? { lock.withLock { reports.last } }
}
