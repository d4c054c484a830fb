import CremaAggregation
import CremaEngine
@testable import CremaIngest
import CremaSpec
import CremaStorage
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The spec the server tests ingest into: the decoder fixtures' `view` and `click` events,
/// with feature groups whose values tell how many times each event was applied.
enum LiveSpec {
    static let yaml = """
        events:
          view:
            time: ts
            fields:
              user_id: string
              video_id: string
              country: string?
              watch_ms: int
              liked: bool?
              score: float?
              embedding: "vector[3]?"
          click:
            fields: { user_id: string }
        entities:
          user: { key: user_id }
          video: { key: video_id }
        features:
          video_stats:
            entity: video
            from: view
            aggregates:
              views: { op: count, windows: [1h, 1d] }
              watch: { op: sum, field: watch_ms, windows: [1d] }
              total: { op: count }
              watch_total: { op: sum, field: watch_ms }
              latest: { op: last, field: watch_ms }
          user_stats:
            entity: user
            from: view
            aggregates:
              views: { op: count }
              watch: { op: sum, field: watch_ms }
          user_clicks:
            entity: user
            from: click
            aggregates:
              clicks: { op: count }
        """

    /// The test clock's start, and `Fixtures.viewLine`'s default event time.
    static let start: Int64 = 1_763_900_000_000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
}

/// A settable server clock.
final class SettableClock: Sendable {
    private let current: Mutex<Int64>

    init(_ start: Int64) { current = Mutex(start) }

    var now: Int64 {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

/// One view event as a producer sends it.
struct ViewEvent: Sendable, Hashable {
    var seq: Int?
    var user: String
    var video: String
    var watch: Int64
    var ts: Int64 = LiveSpec.start

    /// The NDJSON line (no newline).
    var line: String {
        let sequence = seq.map { "\"seq\": \($0), " } ?? ""
        return "{\"type\": \"view\", \(sequence)\"ts\": \(ts), \"user_id\": \"\(user)\", \"video_id\": \"\(video)\", \"watch_ms\": \(watch)}"
    }
}

/// A real engine on a real RocksDB in a temp directory of its own, with a test clock.
final class LiveEngine: @unchecked Sendable {
    let directory: URL
    let clock: SettableClock
    let spec: CompiledSpec
    private(set) var engine: Engine!
    private var database: Database!
    let logger = Logger(label: "crema.ingest.tests")

    init(now: Int64 = LiveSpec.start, configure: (inout EngineConfiguration) -> Void = { _ in }) throws {
        spec = try SpecCompiler.compile(sources: [(file: "t.yaml", text: LiveSpec.yaml)]).get()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crema-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        clock = SettableClock(now)
        database = try Database(path: directory.appendingPathComponent("db").path)
        var configuration = EngineConfiguration()
        let clock = clock
        configuration.clock = { clock.now }
        configure(&configuration)
        engine = try Engine(spec: spec, database: database, configuration: configuration)
    }

    /// Stops the engine, closes the database and removes the directory (idempotent).
    func close() {
        engine?.shutdown()
        engine = nil
        database = nil
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { close() }

    /// Reads features of string-keyed ids at `at` (the test clock when nil), one column per feature.
    func read(_ entity: String, _ ids: [String], _ features: [String], at: Int64? = nil) throws -> [[FeatureValue]] {
        let references = try engine.resolve(features: features, of: entity)
        return try engine.read(ids: ids.map { [.string($0)] }, features: references, at: at).map(\.values)
    }

    /// Reads one feature of one id.
    func value(_ entity: String, _ id: String, _ feature: String, at: Int64? = nil) throws -> FeatureValue {
        try read(entity, [id], [feature], at: at)[0][0]
    }

    /// The logged events of `producer` ("" for anonymous connections), in arrival order.
    func log(of producer: String) throws -> [LogRecord] {
        try engine.loggedEvents().filter { $0.producer == producer }
    }

    /// Expects the engine's view features to hold exactly one application of each of `views`
    /// (for the videos and users they name, plus `alsoAbsent`, which must read as null).
    func expectHoldsExactlyOnce(
        _ views: [ViewEvent], alsoAbsent: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let videos = Set(views.map(\.video)).sorted()
        let users = Set(views.map(\.user)).sorted()
        let videoColumns = try read("video", videos + alsoAbsent, ["video_stats.total", "video_stats.watch_total", "video_stats.views_1d", "video_stats.watch_1d"])
        var expectedCounts: [FeatureValue] = videos.map { video in .int(Int64(views.count { $0.video == video })) }
        var expectedSums: [FeatureValue] = videos.map { video in .int(views.filter { $0.video == video }.reduce(0) { $0 + $1.watch }) }
        expectedCounts += alsoAbsent.map { _ in .null }
        expectedSums += alsoAbsent.map { _ in .null }
        #expect(videoColumns[0] == expectedCounts, "video_stats.total", sourceLocation: sourceLocation)
        #expect(videoColumns[1] == expectedSums, "video_stats.watch_total", sourceLocation: sourceLocation)
        // Every event of these tests is within a day of the clock, unless a test says otherwise.
        if views.allSatisfy({ clock.now - $0.ts < LiveSpec.day - LiveSpec.hour && $0.ts <= clock.now }) {
            #expect(videoColumns[2] == expectedCounts, "video_stats.views_1d", sourceLocation: sourceLocation)
            #expect(videoColumns[3] == expectedSums, "video_stats.watch_1d", sourceLocation: sourceLocation)
        }
        let userColumns = try read("user", users, ["user_stats.views", "user_stats.watch"])
        #expect(userColumns[0] == users.map { user in .int(Int64(views.count { $0.user == user })) }, "user_stats.views", sourceLocation: sourceLocation)
        #expect(userColumns[1] == users.map { user in .int(views.filter { $0.user == user }.reduce(0) { $0 + $1.watch }) }, "user_stats.watch", sourceLocation: sourceLocation)
    }
}

/// Runs a fresh live engine for `body`, then shuts it down and removes its directory.
func withLiveEngine<Result>(
    now: Int64 = LiveSpec.start, configure: (inout EngineConfiguration) -> Void = { _ in },
    _ body: (LiveEngine) async throws -> Result
) async throws -> Result {
    let live = try LiveEngine(now: now, configure: configure)
    do {
        let result = try await body(live)
        live.close()
        return result
    } catch {
        live.close()
        throw error
    }
}

/// Runs an ingest server on `address` feeding `live`'s engine for the duration of `body`,
/// then cancels it and waits for it to stop.
func withServer<Result: Sendable>(
    _ live: LiveEngine, on address: IngestAddress = .tcp(host: "127.0.0.1", port: 0),
    configure: (inout IngestServer.Configuration) -> Void = { _ in },
    _ body: (IngestServer, IngestAddress) async throws -> Result
) async throws -> Result {
    var configuration = IngestServer.Configuration(address: address)
    configure(&configuration)
    let server = IngestServer(configuration: configuration, spec: live.spec, sink: live.engine, logger: live.logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        let bound = try await server.boundAddress()
        let result = try await body(server, bound)
        group.cancelAll()
        try await group.waitForAll()
        return result
    }
}

/// The chunks of `bytes`, `size` bytes each.
func chunked(_ bytes: [UInt8], size: Int = 1000) -> AsyncStream<[UInt8]> {
    AsyncStream { continuation in
        for start in stride(from: 0, to: bytes.count, by: size) {
            continuation.yield(Array(bytes[start..<min(start + size, bytes.count)]))
        }
        continuation.finish()
    }
}

/// The chunks of `text`'s UTF-8 bytes.
func chunked(_ text: String, size: Int = 1000) -> AsyncStream<[UInt8]> {
    chunked(Array(text.utf8), size: size)
}

/// What a raw connection has read back from the server.
struct ReplyLog {
    var errors: [IngestClient.LineError] = []
    var lastAck = 0
    var totals = IngestTotals()
    var lastSequence: UInt64?
    /// Reply lines that parsed as none of the protocol's lines.
    var unknown: [String] = []
}

/// A raw NDJSON connection to the ingest server: writes bytes as given and reads reply
/// lines when asked, so a test controls exactly when acks are read.
struct RawConnection {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var carry: [UInt8] = []
    private(set) var replies = ReplyLog()
    private(set) var isAtEnd = false

    /// Connects to `address` and runs `body` on the connection, closing it afterwards.
    static func with<Result>(_ address: IngestAddress, _ body: (inout RawConnection) async throws -> Result) async throws -> Result {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).channelOption(.allowRemoteHalfClosure, value: true)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
            }
        }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        switch address {
        case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
        case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
        }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(&connection)
        }
    }

    /// Writes `bytes` (suspends while the socket pushes back).
    func write(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Writes `text`.
    func write(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// Half-closes the connection: the server settles what it has, acks and closes.
    func finish() {
        outbound.finish()
    }

    /// The next reply line, or nil once the server closed the connection.
    mutating func nextLine() async throws -> String? {
        while true {
            if let newline = carry.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(carry[..<newline])
                carry.removeSubrange(...newline)
                record(line)
                return String(decoding: line, as: UTF8.self)
            }
            guard let buffer = try await inbound.next() else {
                isAtEnd = true
                if carry.isEmpty { return nil }
                let line = carry
                carry = []
                record(line)
                return String(decoding: line, as: UTF8.self)
            }
            carry.append(contentsOf: buffer.readableBytesView)
        }
    }

    /// Reads replies until an ack of line `line` or later; false when the connection closed first.
    @discardableResult
    mutating func readUntilAck(of line: Int) async throws -> Bool {
        while replies.lastAck < line {
            guard try await nextLine() != nil else { return false }
        }
        return true
    }

    /// Reads replies until the server closes the connection.
    mutating func readToEnd() async throws {
        while try await nextLine() != nil {}
    }

    private mutating func record(_ line: [UInt8]) {
        switch Reply(line: line) {
        case .ack(let acked, let totals)?:
            replies.lastAck = acked
            replies.totals = totals
        case .error(let errorLine, let message)?:
            replies.errors.append(.init(line: errorLine, message: message))
        case .hello(let lastSequence)?:
            replies.lastSequence = lastSequence
        case nil:
            replies.unknown.append(String(decoding: line, as: UTF8.self))
        }
    }
}

/// The process's resident memory in bytes, from /proc/self/statm.
func residentMemory() throws -> Int {
    let text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { throw IngestError(code: .connectionFailed, message: "cannot parse statm: \(text)") }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}
