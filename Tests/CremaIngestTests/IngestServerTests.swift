import CremaEngine
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

@Suite("IngestServer")
struct IngestServerTests {
    private let logger = Logger(label: "crema.ingest.tests")

    /// Runs a server on `address` for the duration of `body`, then cancels it and waits for it to stop.
    private func withServer(
        _ address: IngestAddress, sink: RecordingSink,
        _ body: (IngestServer, IngestAddress) async throws -> Void
    ) async throws {
        let server = IngestServer(configuration: .init(address: address), spec: Fixtures.spec, sink: sink, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            let bound = try await server.boundAddress()
            try await body(server, bound)
            group.cancelAll()
            try await group.waitForAll()
        }
    }

    private func chunks(_ text: String, size: Int = 1000) -> AsyncStream<[UInt8]> {
        let bytes = Array(text.utf8)
        return AsyncStream { continuation in
            for start in stride(from: 0, to: bytes.count, by: size) {
                continuation.yield(Array(bytes[start..<min(start + size, bytes.count)]))
            }
            continuation.finish()
        }
    }

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

    private func makeTemporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crema-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func servesConcurrentProducersOverTCP() async throws {
        let sink = RecordingSink()
        try await withServer(.tcp(host: "127.0.0.1", port: 0), sink: sink) { server, address in
            guard case .tcp(_, let port) = address else { Issue.record("not TCP"); return }
            #expect(port > 0)
            try await withThrowingTaskGroup(of: IngestClient.Summary.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var text = ""
                        for sequence in 1...300 {
                            text += sequence % 50 == 0 ? "{\"type\": \"view\", \"seq\": \(sequence)}\n" : Fixtures.viewLine(seq: sequence, user: "c\(client)") + "\n"
                        }
                        let summary = try await IngestClient(address: address, producer: "producer-\(client)").send(chunks(text, size: 777))
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
        let events = sink.events
        #expect(events.count == 4 * 294)
        for client in 0..<4 {
            let lines = sink.batches.filter { $0.producer == "producer-\(client)" }.flatMap(\.events).map(\.line)
            #expect(lines == (1...300).filter { $0 % 50 != 0 })
        }
    }

    @Test func servesAUnixSocketReplacingAStaleSocketFile() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("ingest.sock").path
        // A socket file left behind by a server that is gone.
        try makeStaleSocketFile(at: path)
        #expect(fileExists(path))

        let sink = RecordingSink()
        try await withServer(try IngestAddress(parsing: "unix:\(path)"), sink: sink) { _, address in
            #expect(address == .unix(path: path))
            try await withThrowingTaskGroup(of: IngestClient.Summary.self) { group in
                for client in 0..<3 {
                    group.addTask {
                        let text = (0..<100).map { _ in Fixtures.viewLine(user: "unix-\(client)") }.joined(separator: "\r\n")
                        return try await IngestClient(address: address).send(chunks(text, size: 100))
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
        #expect(sink.events.count == 300)
        #expect(sink.batches.allSatisfy { $0.producer == nil })
        #expect(!fileExists(path))
    }

    @Test func resendsAfterReconnectAreDuplicates() async throws {
        let sink = RecordingSink()
        try await withServer(.tcp(host: "127.0.0.1", port: 0), sink: sink) { _, address in
            let client = IngestClient(address: address, producer: "clicks-1")
            let first = try await client.send(chunks((1...10).map { Fixtures.viewLine(seq: $0) + "\n" }.joined()))
            #expect(first.totals == IngestTotals(accepted: 10))
            let second = try await client.send(chunks((5...15).map { Fixtures.viewLine(seq: $0) + "\n" }.joined()))
            #expect(second.lastSequence == 10)
            #expect(second.totals == IngestTotals(accepted: 5, duplicates: 6))
            #expect(second.acknowledgedLine == 11)
        }
    }

    @Test func reportsEngineRejectionsBeforeTheAck() async throws {
        let sink = RecordingSink(latestAcceptedTime: 2_000_000_000_000)
        try await withServer(.tcp(host: "127.0.0.1", port: 0), sink: sink) { _, address in
            let text = Fixtures.viewLine() + "\n" + Fixtures.viewLine(time: 3_000_000_000_000) + "\n"
            let summary = try await IngestClient(address: address).send(chunks(text))
            #expect(summary.totals == IngestTotals(accepted: 1, rejected: 1))
            #expect(summary.errors == [.init(line: 2, message: "event time 3000000000000 is more than max_future ahead")])
        }
    }

    @Test func refusesAMalformedHello() async throws {
        let sink = RecordingSink()
        try await withServer(.tcp(host: "127.0.0.1", port: 0), sink: sink) { _, address in
            let text = "{\"producer\": 42}\n" + Fixtures.viewLine() + "\n"
            await #expect(throws: IngestError(code: .connectionRefused, message: "server refused the connection: invalid hello: producer: expected string, got 42")) {
                try await IngestClient(address: address).send(chunks(text))
            }
        }
        #expect(sink.events.isEmpty)
    }

    @Test func sendsAFile() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("events.ndjson")
        let text = Fixtures.viewLine(seq: 1) + "\n\n" + "garbage\u{0}\n" + Fixtures.viewLine(seq: 2)
        try Data(text.utf8).write(to: file)
        let sink = RecordingSink()
        try await withServer(.tcp(host: "127.0.0.1", port: 0), sink: sink) { _, address in
            let reports = ProgressLog()
            let summary = try await IngestClient(address: address, producer: "file").send(path: file.path) { reports.append($0) }
            #expect(summary.linesSent == 4)
            #expect(summary.acknowledgedLine == 4)
            #expect(summary.totals == IngestTotals(accepted: 2, rejected: 1))
            #expect(summary.errors == [.init(line: 3, message: "not a JSON object")])
            #expect(reports.last?.acknowledgedLine == 4)
            #expect(reports.last?.bytesSent == text.utf8.count)
        }
        await #expect(throws: IngestError.self) {
            try await IngestClient(address: .tcp(host: "127.0.0.1", port: 1)).send(path: directory.appendingPathComponent("missing").path)
        }
    }

    @Test func gracefulShutdownAcksWhatWasReceivedThenCloses() async throws {
        let sink = RecordingSink()
        let server = IngestServer(
            configuration: .init(address: .tcp(host: "127.0.0.1", port: 0)), spec: Fixtures.spec, sink: sink, logger: logger)
        let serviceGroup = ServiceGroup(configuration: .init(services: [server], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            guard case .tcp(let host, let port) = try await server.boundAddress() else { return }
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
            try await channel.executeThenClose { inbound, outbound in
                // Two full lines and the start of a third, which is never acknowledged.
                try await outbound.write(ByteBuffer(string: Fixtures.viewLine() + "\n" + Fixtures.viewLine() + "\n{\"type\""))
                while server.statistics.lines < 2 { try await Task.sleep(for: .milliseconds(10)) }
                await serviceGroup.triggerGracefulShutdown()
                var received = ""
                for try await buffer in inbound { received += String(buffer: buffer) }
                #expect(received.contains(#"{"ack": 2, "accepted": 2, "rejected": 0, "duplicates": 0, "late": 0}"#))
            }
            try await group.waitForAll()
        }
        #expect(sink.events.count == 2)
        #expect(server.statistics.connectionsOpen == 0)
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
