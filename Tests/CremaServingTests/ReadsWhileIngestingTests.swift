import CremaAggregation
import CremaIngest
import Foundation
import Testing

@testable import CremaServing

/// A stream of `play` events and, per song, what every prefix of it adds up to.
struct PlayStream {
    static let yaml = """
        events:
          play:
            time: ts
            fields: { song: string, listener: int, ms: int }
        entities:
          song: { key: song }
          listener: { key: listener }
        features:
          song_stats:
            entity: song
            from: play
            aggregates:
              plays: { op: count, windows: [1d] }
              ms: { op: sum, field: ms, windows: [1h] }
              total: { op: count }
              ms_total: { op: sum, field: ms }
              latest: { op: last, field: ms }
          listener_stats:
            entity: listener
            from: play
            aggregates:
              plays: { op: count }
        """

    /// Every song's features, in the order the readers ask for them.
    static let songFeatures = ["song_stats.total", "song_stats.ms_total", "song_stats.latest", "song_stats.plays_1d", "song_stats.ms_1h"]
    static let songs = (0..<8).map { "s\($0)" }
    static let listeners: [Int64] = [0, 1, 2, 3, -4]
    /// The fixed server clock: an hour boundary and 55 minutes.
    static let now: Int64 = 1_700_006_400_000 + 55 * 60_000

    /// The events' songs, listeners and ms, in stream order (line i + 1 is event i).
    let songIndices: [Int]
    let listenerIndices: [Int]
    let milliseconds: [Int64]
    /// Each song's event indices, in stream order.
    private let positions: [[Int]]
    /// Each song's ms sums over its first 0, 1, 2… events.
    private let prefixSums: [[Int64]]

    /// `count` events, one a second, ending at the clock: every one inside `plays_1d` and
    /// `ms_1h`, in time order, so a song's `latest` is its newest event's ms.
    init(seed: UInt64, count: Int) {
        var random = SplitMix64(seed: seed)
        songIndices = (0..<count).map { _ in Int.random(in: 0..<Self.songs.count, using: &random) }
        listenerIndices = (0..<count).map { _ in Int.random(in: 0..<Self.listeners.count, using: &random) }
        milliseconds = (0..<count).map { _ in Int64.random(in: 1...100_000, using: &random) }
        var positions = Array(repeating: [Int](), count: Self.songs.count)
        for (index, song) in songIndices.enumerated() { positions[song].append(index) }
        self.positions = positions
        let values = milliseconds
        prefixSums = positions.map { mine in mine.reduce(into: [Int64(0)]) { sums, index in sums.append(sums.last! + values[index]) } }
    }

    var count: Int { songIndices.count }

    /// Line `index + 1`, with `seq` `index + 1`.
    func line(_ index: Int) -> String {
        "{\"type\": \"play\", \"seq\": \(index + 1), \"ts\": \(Self.now - Int64(count - index) * 1_000), "
            + "\"song\": \"\(Self.songs[songIndices[index]])\", \"listener\": \(Self.listeners[listenerIndices[index]]), \"ms\": \(milliseconds[index])}"
    }

    /// How many of the first `lines` events are of `song`.
    func count(of song: Int, inFirst lines: Int) -> Int {
        positions[song].count { $0 < lines }
    }

    /// How many events are of `listener`.
    func total(ofListener listener: Int) -> Int {
        listenerIndices.count { $0 == listener }
    }

    /// What song `song`'s features read once exactly its first `plays` events are applied:
    /// total, ms_total, latest, plays_1d, ms_1h.
    func songValues(_ song: Int, plays: Int) -> [FeatureValue] {
        guard plays > 0 else { return Array(repeating: .null, count: 5) }
        let sum = prefixSums[song][plays]
        return [.int(Int64(plays)), .int(sum), .int(milliseconds[positions[song][plays - 1]]), .int(Int64(plays)), .int(sum)]
    }
}

/// One reader's view of the stream: checks each read against the acknowledged prefix and
/// its own previous reads.
struct PrefixChecker {
    let stream: PlayStream
    let reader: String
    private var lastPlays: [Int]
    private var lastListenerPlays = Array(repeating: 0, count: PlayStream.listeners.count)
    private(set) var log = MismatchLog()
    private(set) var reads = 0
    /// Reads that saw some of the stream's events, but not all.
    private(set) var partialReads = 0

    init(stream: PlayStream, reader: String) {
        self.stream = stream
        self.reader = reader
        lastPlays = Array(repeating: 0, count: PlayStream.songs.count)
    }

    /// Checks one read's song rows (one value per feature of `PlayStream.songFeatures`) and
    /// the broadcast listener's plays, given the lines acknowledged before the read was sent.
    /// Every row must be exactly some prefix of its song's events: at least the acknowledged
    /// ones, no more than were sent, never fewer than this reader saw before.
    mutating func check(songRows: [[FeatureValue]], listener: Int, listenerPlays: FeatureValue, acknowledgedBefore: Int) {
        reads += 1
        // A local log: the messages read `self` while the log is being changed.
        var log = self.log
        defer { self.log = log }
        let reader = self.reader
        for (song, row) in songRows.enumerated() {
            let plays: Int
            switch row.first {
            case .int(let count)?: plays = Int(count)
            case .null?: plays = 0
            default:
                log.check(false, "\(reader): song \(song) total is \(String(describing: row.first))")
                continue
            }
            let floor = stream.count(of: song, inFirst: acknowledgedBefore)
            let ceiling = stream.count(of: song, inFirst: stream.count)
            log.check(plays >= floor, "\(reader): song \(song) reads \(plays) plays after \(floor) were acknowledged")
            log.check(plays <= ceiling, "\(reader): song \(song) reads \(plays) plays of \(ceiling) sent")
            log.check(plays >= lastPlays[song], "\(reader): song \(song) went back from \(lastPlays[song]) to \(plays) plays")
            lastPlays[song] = max(lastPlays[song], plays)
            let expected = stream.songValues(song, plays: min(plays, ceiling))
            log.check(row == expected, "\(reader): song \(song) row \(row) is not the prefix of \(plays) plays, \(expected)")
        }
        let seen = songRows.map { row -> Int64 in
            if case .int(let plays)? = row.first { return plays }
            return 0
        }.reduce(0, +)
        if seen > 0 && seen < Int64(stream.count) { partialReads += 1 }
        let listenerCount: Int
        switch listenerPlays {
        case .int(let count): listenerCount = Int(count)
        case .null: listenerCount = 0
        default: listenerCount = -1
        }
        let listenerFloor = stream.listenerIndices.prefix(acknowledgedBefore).count { $0 == listener }
        log.check(
            listenerCount >= max(listenerFloor, lastListenerPlays[listener]) && listenerCount <= stream.total(ofListener: listener),
            "\(reader): listener \(listener) reads \(listenerPlays); \(listenerFloor) acknowledged, \(lastListenerPlays[listener]) seen before"
        )
        lastListenerPlays[listener] = max(lastListenerPlays[listener], listenerCount)
    }
}

@Suite("Reads stay correct while ingestion runs")
struct ReadsWhileIngestingTests {
    @Test("HTTP and gRPC readers see every row as a prefix of the acknowledged stream, then the exact totals")
    func readsWhileIngesting() async throws {
        let stream = PlayStream(seed: 42, count: 3_000)
        try await ServingStack.with(specText: PlayStream.yaml, now: PlayStream.now) { stack in
            let acknowledged = SharedCounter()
            let readsCompleted = SharedCounter()
            let producersDone = SharedCounter()
            let (chunks, chunkSink) = AsyncStream<[UInt8]>.makeStream()
            let (readTicks, tickSink) = AsyncStream<Int>.makeStream()
            let linesPerChunk = 50

            let checkers = try await withThrowingTaskGroup(of: PrefixChecker?.self) { group in
                // The producer: one connection with a hello, acks reported as they arrive.
                group.addTask {
                    let summary = try await stack.send(chunks, producer: "player-1") { line in
                        acknowledged.raise(to: line)
                    }
                    #expect(summary.totals == IngestTotals(accepted: stream.count, rejected: 0, duplicates: 0, late: 0))
                    #expect(summary.errors.isEmpty)
                    producersDone.raise(to: 1)
                    return nil
                }
                // Hands the producer chunk i + 1 only once a read that began after chunk i - 1 was
                // acknowledged has completed: reads overlap ingestion, and some see each stage of
                // it, whatever the machine's speed.
                group.addTask {
                    var ticks = readTicks.makeAsyncIterator()
                    var previousEnd = 0
                    for start in stride(from: 0, to: stream.count, by: linesPerChunk) {
                        let end = min(start + linesPerChunk, stream.count)
                        chunkSink.yield(ServingStack.ndjson((start..<end).map(stream.line)))
                        while let acknowledgedBeforeRead = await ticks.next(), acknowledgedBeforeRead < previousEnd {}
                        previousEnd = end
                    }
                    chunkSink.finish()
                    return nil
                }
                for reader in 0..<3 {
                    group.addTask {
                        var checker = PrefixChecker(stream: stream, reader: reader == 2 ? "gRPC reader" : "HTTP reader \(reader)")
                        var round = 0
                        while true {
                            let isLast = producersDone.value == 1
                            let acknowledgedBefore = acknowledged.value
                            let listener = round % PlayStream.listeners.count
                            let (rows, listenerPlays) = try await (
                                reader == 2 ? Self.readOverGRPC(stack, listener: listener) : Self.readOverHTTP(stack, listener: listener)
                            )
                            checker.check(songRows: rows, listener: listener, listenerPlays: listenerPlays, acknowledgedBefore: acknowledgedBefore)
                            _ = readsCompleted.increment()
                            tickSink.yield(acknowledgedBefore)
                            round += 1
                            if isLast { return checker }
                        }
                    }
                }
                var checkers: [PrefixChecker] = []
                for try await checker in group {
                    if let checker { checkers.append(checker) }
                }
                return checkers
            }
            tickSink.finish()

            #expect(checkers.count == 3)
            for checker in checkers {
                #expect(checker.log.count == 0, "\(checker.reader): \(checker.log.count) of \(checker.log.checked) checks failed")
                #expect(checker.reads >= 2)
            }
            // Each chunk after the second waited for a read that saw some but not all of the stream.
            #expect(readsCompleted.value >= stream.count / linesPerChunk)
            #expect(checkers.map(\.partialReads).reduce(0, +) >= stream.count / linesPerChunk - 2)

            // Afterwards: exact totals for every song over both protocols, and the server still answers.
            let finalHTTP = try await Self.readOverHTTP(stack, listener: 0)
            let finalGRPC = try await Self.readOverGRPC(stack, listener: 0)
            for song in PlayStream.songs.indices {
                let expected = stream.songValues(song, plays: stream.count(of: song, inFirst: stream.count))
                #expect(finalHTTP.rows[song] == expected)
                #expect(finalGRPC.rows[song] == expected)
            }
            #expect(finalHTTP.listenerPlays == .int(Int64(stream.total(ofListener: 0))))
            let health = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/healthz")
            #expect(health.status == 200)
        }
    }

    /// Reads every song's features and one listener's plays over HTTP.
    static func readOverHTTP(_ stack: ServingStack, listener: Int) async throws -> (rows: [[FeatureValue]], listenerPlays: FeatureValue) {
        let body = "{\"entity\": \"song\", \"ids\": \(JSONText.strings(PlayStream.songs)), \"features\": \(JSONText.strings(PlayStream.songFeatures)), "
            + "\"broadcast\": {\"entity\": \"listener\", \"id\": \(PlayStream.listeners[listener]), \"features\": [\"listener_stats.plays\"]}}"
        let response = try await stack.postFeatures(body)
        try #require(response.status == 200, "\(response.text)")
        let object = try JSONText.object(response)
        let columns = try #require(object["features"] as? [String: [Any]])
        let rows = PlayStream.songs.indices.map { song in
            PlayStream.songFeatures.map { feature in integer(columns[feature]?[song]) }
        }
        let broadcast = try #require(object["broadcast"] as? [String: Any])
        return (rows, integer(broadcast["listener_stats.plays"]))
    }

    /// Reads every song's features and one listener's plays over gRPC.
    static func readOverGRPC(_ stack: ServingStack, listener: Int) async throws -> (rows: [[FeatureValue]], listenerPlays: FeatureValue) {
        var request = GRPCFixture.request("song", PlayStream.songs.map(GRPCFixture.text), PlayStream.songFeatures)
        request.broadcast.entity = "listener"
        request.broadcast.id = GRPCFixture.number(PlayStream.listeners[listener])
        request.broadcast.features = ["listener_stats.plays"]
        let response = try await stack.grpc.get(request)
        let columns = response.columns.map { ColumnDecoder.values(of: $0) }
        try #require(columns.count == PlayStream.songFeatures.count && columns.allSatisfy { $0.count == PlayStream.songs.count })
        let rows = PlayStream.songs.indices.map { song in columns.map { $0[song] } }
        return (rows, response.broadcast.first.map { ColumnDecoder.values(of: $0).first ?? .null } ?? .null)
    }

    /// A parsed JSON integer or null as a feature value (anything else is a string, so it never matches).
    private static func integer(_ json: Any?) -> FeatureValue {
        switch json {
        case is NSNull: return .null
        case let number as NSNumber where Double(number.int64Value) == number.doubleValue: return .int(number.int64Value)
        default: return .string("\(json ?? "missing")")
        }
    }
}
