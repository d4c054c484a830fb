import CremaAggregation
import CremaEngine
@testable import CremaIngest
import CremaStorage
import Foundation
import Testing

/// End-to-end: producers on real sockets, the real server, the real engine on RocksDB.
@Suite("Ingest end to end", .serialized)
struct IngestEndToEndTests {
    /// What a line of the bad-input stream must do.
    private enum Outcome {
        /// Applied once; the raw text the log must hold.
        case applied(ViewEvent, raw: String)
        /// An applied click of `user`.
        case click(user: String, seq: Int, raw: String)
        /// One error line; its message is checked when `message` is given, or its prefix/suffix.
        case bad(message: String? = nil, prefix: String? = nil, suffix: String? = nil)
        /// Skipped silently (empty or whitespace-only).
        case skipped
        /// A duplicate of a settled `seq`: skipped and acked, not an error.
        case duplicate
    }

    /// `text`'s bytes with `bytes` in place of its "@@".
    private func splice(_ text: String, _ bytes: [UInt8]) -> [UInt8] {
        let parts = text.components(separatedBy: "@@")
        return Array(parts[0].utf8) + bytes + Array(parts[1].utf8)
    }

    @Test("bad lines each get one error with their line number; valid events apply exactly once")
    func badInputExactlyOnce() async throws {
        try await withLiveEngine { live in
            var lines: [(bytes: [UInt8], outcome: Outcome)] = []
            var seq = 0
            func nextSeq() -> Int { seq += 1; return seq }
            func text(_ line: String, _ outcome: Outcome) { lines.append((Array(line.utf8), outcome)) }
            func valid(_ user: String, _ video: String, _ watch: Int64) {
                let event = ViewEvent(seq: nextSeq(), user: user, video: video, watch: watch)
                text(event.line, .applied(event, raw: event.line))
            }
            func view(_ fields: String) -> String {
                "{\"type\": \"view\", \"seq\": \(nextSeq()), \"ts\": \(LiveSpec.start), \(fields)}"
            }
            let good = "\"user_id\": \"u1\", \"video_id\": \"v1\", \"watch_ms\": 5"
            let notObject = Outcome.bad(message: "not a JSON object")
            let timePrefix = "field ts: expected epoch ms or RFC 3339 time, got "
            let reserved = "key producer is reserved (a hello is only valid as the first line)"

            valid("u1", "v1", 100)
            text("not json at all", notObject)
            text("[1, 2, 3]", notObject)
            text("\"just a string\"", notObject)
            text("null", notObject)
            text("42", notObject)
            valid("u2", "v1", 200)
            text("{\"type\": \"purchase\", \"seq\": \(nextSeq()), \"user_id\": \"u1\"}", .bad(message: "unknown event type \"purchase\""))
            text("{\"seq\": \(nextSeq()), \"user_id\": \"u1\"}", .bad(message: "missing field type"))
            text("{\"type\": 7, \"seq\": \(nextSeq()), \"user_id\": \"u1\"}", .bad(message: "field type: expected string, got 7"))
            text(view("\"video_id\": \"v1\", \"watch_ms\": 5"), .bad(message: "missing field user_id"))
            text(view("\"user_id\": \"u1\", \"video_id\": \"v1\""), .bad(message: "missing field watch_ms"))
            text("{\"type\": \"view\", \"seq\": \(nextSeq()), \(good)}", .bad(message: "missing field ts"))
            text(view("\"user_id\": \"u1\", \"video_id\": \"v1\", \"watch_ms\": \"abc\""), .bad(message: "field watch_ms: expected int, got \"abc\""))
            text(view("\"user_id\": \"u1\", \"video_id\": \"v1\", \"watch_ms\": 1.5"), .bad(message: "field watch_ms: expected int, got 1.5"))
            text(view("\"user_id\": 12, \"video_id\": \"v1\", \"watch_ms\": 5"), .bad(message: "field user_id: expected string, got 12"))
            text(view("\(good), \"liked\": \"yes\""), .bad(message: "field liked: expected bool, got \"yes\""))
            text("{\"type\": \"view\", \"seq\": \(nextSeq()), \"ts\": \"2025-02-30T00:00:00Z\", \(good)}", .bad(prefix: timePrefix))
            text("{\"type\": \"view\", \"seq\": \(nextSeq()), \"ts\": \"yesterday\", \(good)}", .bad(prefix: timePrefix))
            text("{\"type\": \"view\", \"seq\": \(nextSeq()), \"ts\": 1763900000000.5, \(good)}", .bad(prefix: timePrefix))
            // A valid RFC 3339 time with an offset: the clock's start, written another way.
            let rfc = ViewEvent(seq: nextSeq(), user: "u3", video: "v2", watch: 300)
            let rfcLine = "{\"type\": \"view\", \"seq\": \(rfc.seq!), \"ts\": \"2025-11-23T13:13:20.000+01:00\", \"user_id\": \"u3\", \"video_id\": \"v2\", \"watch_ms\": 300}"
            text(rfcLine, .applied(rfc, raw: rfcLine))
            lines.append(([0xFF, 0xFE, 0x00, 0x01, 0x9C, 0x80, 0x7B, 0x0D], .bad(message: "invalid UTF-8 at byte 1")))
            text("{\"type\": \"view\",\u{0} \"seq\": \(nextSeq()), \"ts\": \(LiveSpec.start), \(good)}", .bad())
            text(view("\"user_id\": \"a\u{0}b\", \"video_id\": \"v1\", \"watch_ms\": 5"), .bad())
            lines.append((splice(view("\"user_id\": \"@@\", \"video_id\": \"v1\", \"watch_ms\": 5"), [0xC3, 0x28]), .bad(prefix: "invalid UTF-8 at byte ")))
            lines.append((splice(view("\(good), \"extra\": \"@@\""), [0xC0, 0xAF]), .bad(prefix: "invalid UTF-8 at byte ")))
            text(view("\"user_id\": \"u1\", \"video_id\": \"v1\", \"watch_ms\": 99999999999999999999"),
                 .bad(message: "field watch_ms: expected int, got 99999999999999999999 (out of 64-bit range)"))
            text(view("\(good), \"score\": 1e400"), .bad(message: "field score: expected float, got 1e400 (out of range)"))
            text(view("\(good), \"ignored\": " + String(repeating: "[", count: 65) + String(repeating: "]", count: 65)),
                 .bad(suffix: "nested deeper than 64 levels"))
            // Deep (but within the limit) nesting and a huge number in ignored fields are fine.
            let nested = ViewEvent(seq: nextSeq(), user: "u4", video: "v2", watch: 400)
            let nestedLine = String(nested.line.dropLast())
                + ", \"ignored\": " + String(repeating: "{\"a\": [", count: 30) + "1e999" + String(repeating: "]}", count: 30)
                + ", \"big\": 123456789012345678901234567890}"
            text(nestedLine, .applied(nested, raw: nestedLine))
            // Over max_line (1 MiB): 2 MiB in an ignored field.
            text(view("\(good), \"pad\": \"" + String(repeating: "x", count: 2 << 20) + "\""), .bad(message: "line longer than 1048576 bytes"))
            text(Fixtures.viewLine(), .bad(message: "missing field seq"))
            text("", .skipped)
            text("  \t  ", .skipped)
            let crlf = ViewEvent(seq: nextSeq(), user: "u1", video: "v3", watch: 500)
            text(crlf.line + "\r", .applied(crlf, raw: crlf.line))
            text("{\"type\": \"view\", \"seq\": 0, \"ts\": \(LiveSpec.start), \(good)}", .bad(message: "field seq: expected a positive integer, got 0"))
            text("{\"type\": \"view\", \"seq\": -5, \"ts\": \(LiveSpec.start), \(good)}", .bad(message: "field seq: expected a positive integer, got -5"))
            text("{\"type\": \"view\", \"seq\": \"77\", \"ts\": \(LiveSpec.start), \(good)}", .bad(message: "field seq: expected a positive integer, got \"77\""))
            text(view("\(good), \"user_id\": \"u2\""), .bad(message: "duplicate key user_id"))
            text(view("\(good), \"producer\": \"someone\""), .bad(message: reserved))
            text("{\"producer\": \"other\"}", .bad(message: reserved))
            text(view("\(good), \"embedding\": [1, 2]"), .bad(message: "field embedding: expected vector[3], got 2 numbers"))
            text(view(good) + " trailing", .bad())
            text("{\"type\": \"view\", \"seq\": \(nextSeq()), \"ts\": \(LiveSpec.start)", .bad())
            text(view("\"user_id\": \"a\tb\", \"video_id\": \"v1\", \"watch_ms\": 5"), .bad())
            let clickSeq = nextSeq()
            let clickLine = "{\"type\": \"click\", \"seq\": \(clickSeq), \"user_id\": \"u1\"}"
            text(clickLine, .click(user: "u1", seq: clickSeq, raw: clickLine))
            valid("u2", "v3", 600)
            // A mistyped line is an error even when its seq would be a duplicate.
            text("{\"type\": \"view\", \"seq\": 1, \"ts\": \(LiveSpec.start), \"user_id\": \"u1\", \"video_id\": \"v1\", \"watch_ms\": true}",
                 .bad(message: "field watch_ms: expected int, got true"))
            // Back in seq: duplicates, skipped and acked.
            text(String(decoding: lines[0].bytes, as: UTF8.self), .duplicate)
            text(ViewEvent(seq: 2, user: "u9", video: "v9", watch: 9999).line, .duplicate)
            text(ViewEvent(seq: rfc.seq!, user: "u9", video: "v9", watch: 9999).line, .duplicate)
            text("{\"type\": \"click\", \"seq\": \(clickSeq), \"user_id\": \"u9\"}", .duplicate)
            text(ViewEvent(seq: seq, user: "u9", video: "v9", watch: 9999).line, .duplicate)
            let jump = ViewEvent(seq: 1000, user: "u5", video: "v4", watch: 700)
            text(jump.line, .applied(jump, raw: jump.line))
            text(ViewEvent(seq: 999, user: "u9", video: "v9", watch: 9999).line, .duplicate)
            text(ViewEvent(seq: 1000, user: "u9", video: "v9", watch: 9999).line, .duplicate)

            let stream = lines.flatMap { $0.bytes + [UInt8(ascii: "\n")] }
            let badLines = lines.indices.filter { if case .bad = lines[$0].outcome { true } else { false } }.map { $0 + 1 }
            var applied: [ViewEvent] = []
            var logged: [(seq: UInt64, raw: String)] = []
            var duplicates = 0
            for line in lines {
                switch line.outcome {
                case .applied(let event, let raw):
                    applied.append(event)
                    logged.append((UInt64(event.seq!), raw))
                case .click(_, let seq, let raw): logged.append((UInt64(seq), raw))
                case .duplicate: duplicates += 1
                case .bad, .skipped: break
                }
            }
            let expectedTotals = IngestTotals(accepted: logged.count, rejected: badLines.count, duplicates: duplicates)
            let after = ViewEvent(seq: 2000, user: "u6", video: "v5", watch: 800)

            try await withServer(live) { server, address in
                try await RawConnection.with(address) { connection in
                    try await connection.write("{\"producer\": \"messy\"}\n")
                    try await connection.write(stream)
                    let ackedAll = try await connection.readUntilAck(of: lines.count)
                    #expect(ackedAll)
                    #expect(connection.replies.lastSequence == 0)
                    #expect(connection.replies.lastAck == lines.count)
                    #expect(connection.replies.totals == expectedTotals)
                    #expect(connection.replies.unknown.isEmpty)
                    let errors = connection.replies.errors
                    #expect(errors.map(\.line) == badLines)
                    for error in errors where badLines.contains(error.line) {
                        guard case .bad(let message, let prefix, let suffix) = lines[error.line - 1].outcome else { continue }
                        if let message { #expect(error.message == message, "line \(error.line)") }
                        if let prefix { #expect(error.message.hasPrefix(prefix), "line \(error.line): \(error.message)") }
                        if let suffix { #expect(error.message.hasSuffix(suffix), "line \(error.line): \(error.message)") }
                        #expect(!error.message.isEmpty)
                    }
                    // The connection is still open: one more valid line is applied and acked.
                    try await connection.write(after.line + "\n")
                    let ackedMore = try await connection.readUntilAck(of: lines.count + 1)
                    #expect(ackedMore)
                    var totals = expectedTotals
                    totals.accepted += 1
                    #expect(connection.replies.totals == totals)
                    #expect(connection.replies.errors.count == badLines.count)
                    connection.finish()
                    try await connection.readToEnd()
                }
                // The server accepts a new connection, which resumes the producer after its last seq.
                let summary = try await IngestClient(address: address, producer: "messy")
                    .send(chunked(ViewEvent(seq: 2000, user: "u9", video: "v9", watch: 1).line + "\n" + ViewEvent(seq: 2001, user: "u6", video: "v5", watch: 900).line + "\n"))
                #expect(summary.lastSequence == 2000)
                #expect(summary.totals == IngestTotals(accepted: 1, duplicates: 1))
                #expect(server.statistics.connectionsAccepted == 2)
                #expect(server.statistics.rejectedLines == badLines.count)
            }
            applied += [after, ViewEvent(seq: 2001, user: "u6", video: "v5", watch: 900)]
            logged += [(2000, after.line), (2001, ViewEvent(seq: 2001, user: "u6", video: "v5", watch: 900).line)]
            try live.expectHoldsExactlyOnce(applied, alsoAbsent: ["v9"])
            #expect(try live.value("user", "u9", "user_stats.views") == .null)
            #expect(try live.value("user", "u1", "user_clicks.clicks") == .int(1))
            #expect(try live.value("user", "u9", "user_clicks.clicks") == .null)
            let log = try live.log(of: "messy")
            #expect(log.map(\.producerSequence) == logged.map(\.seq))
            #expect(log.map { String(decoding: $0.line, as: UTF8.self) } == logged.map(\.raw))
            #expect(live.engine.lastSequence(of: "messy") == 2001)
            #expect(live.engine.statistics.accepted == logged.count)
        }
    }

    @Test("producers on TCP and a Unix socket at once, then resending everything, apply each event once")
    func concurrentProducersExactlyOnce() async throws {
        try await withLiveEngine { live in
            let producers = (0..<4).map { "tcp-\($0)" } + (0..<2).map { "unix-\($0)" }
            let perProducer = 3000
            // Odd producers leave gaps in seq; entities overlap across producers.
            func events(_ index: Int) -> [ViewEvent] {
                (0..<perProducer).map { i in
                    ViewEvent(
                        seq: index % 2 == 0 ? i + 1 : 3 * i + 2, user: "u\(i % 13)", video: "v\((i * 7 + index) % 17)",
                        watch: Int64(index * 100_000 + i), ts: LiveSpec.start - Int64((i * 37 + index) % 600) * 1000)
                }
            }
            let streams = producers.indices.map { events($0) }
            let path = live.directory.appendingPathComponent("ingest.sock").path
            try await withServer(live) { _, tcp in
                try await withServer(live, on: .unix(path: path)) { _, unix in
                    for pass in 0..<2 {
                        try await withThrowingTaskGroup(of: (Int, IngestClient.Summary).self) { group in
                            for (index, producer) in producers.enumerated() {
                                let address = producer.hasPrefix("tcp") ? tcp : unix
                                let text = streams[index].map { $0.line + "\n" }.joined()
                                group.addTask {
                                    (index, try await IngestClient(address: address, producer: producer).send(chunked(text, size: 4096)))
                                }
                            }
                            for try await (index, summary) in group {
                                #expect(summary.acknowledgedLine == perProducer)
                                #expect(summary.errors.isEmpty)
                                if pass == 0 {
                                    #expect(summary.lastSequence == 0)
                                    #expect(summary.totals == IngestTotals(accepted: perProducer))
                                } else {
                                    #expect(summary.lastSequence == UInt64(streams[index].last!.seq!))
                                    #expect(summary.totals == IngestTotals(duplicates: perProducer))
                                }
                            }
                        }
                    }
                }
            }
            try live.expectHoldsExactlyOnce(streams.flatMap { $0 })
            let statistics = live.engine.statistics
            #expect(statistics.accepted == producers.count * perProducer)
            #expect(statistics.duplicates == producers.count * perProducer)
            let log = try live.engine.loggedEvents()
            #expect(log.count == producers.count * perProducer)
            for (index, producer) in producers.enumerated() {
                #expect(live.engine.lastSequence(of: producer) == UInt64(streams[index].last!.seq!))
                let records = log.filter { $0.producer == producer }
                // Each (producer, seq) once, in the producer's order, with the line it sent.
                #expect(records.map(\.producerSequence) == streams[index].map { UInt64($0.seq!) })
                #expect(records.map { String(decoding: $0.line, as: UTF8.self) } == streams[index].map(\.line))
            }
        }
    }

    @Test("late and out-of-order events through the socket, with a test clock")
    func lateAndOutOfOrderEvents() async throws {
        try await withLiveEngine { live in
            let start = LiveSpec.start
            let minute = LiveSpec.minute
            func event(_ seq: Int, _ ts: Int64, _ watch: Int64) -> ViewEvent { ViewEvent(seq: seq, user: "lu", video: "lv", watch: watch, ts: ts) }
            let first = [
                event(1, start - 10 * minute, 1),
                event(2, start - 50 * minute, 2),
                event(3, start - 5 * minute, 3),
                event(4, start - 30 * minute, 4),
                event(5, start - 3 * LiveSpec.day, 5),  // older than every window: late
                event(6, start + minute + 1, 6),  // past max_future: rejected
                event(7, start + minute - 1000, 7),  // within max_future: accepted
                event(8, start - 20 * minute, 8),  // arrives last, but is not the newest
            ]
            try await withServer(live) { _, address in
                let summary = try await IngestClient(address: address, producer: "late").send(chunked(first.map { $0.line + "\n" }.joined()))
                #expect(summary.totals == IngestTotals(accepted: 7, rejected: 1, late: 1))
                #expect(summary.errors == [.init(
                    line: 6, message: "event time \(start + minute + 1) is more than 60000 ms ahead of the server clock (\(start))")])

                let features = ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_1d", "video_stats.total", "video_stats.watch_total", "video_stats.latest"]
                // At the clock: the 1h window holds the out-of-order events and the one just ahead
                // (its tile is the current one); the late one counts only in lifetime aggregates.
                #expect(try live.read("video", ["lv"], features) == [[.int(6)], [.int(6)], [.int(25)], [.int(7)], [.int(30)], [.int(7)]])

                // Two hours on: the 1h window has moved past them all; the 1d window still holds them.
                live.clock.now = start + 2 * LiveSpec.hour
                let second = [event(9, start - 10 * minute, 9), event(10, start - 2 * LiveSpec.day, 10), event(11, start + LiveSpec.hour, 11)]
                let resumed = try await IngestClient(address: address, producer: "late").send(chunked(second.map { $0.line + "\n" }.joined()))
                #expect(resumed.lastSequence == 8)
                #expect(resumed.totals == IngestTotals(accepted: 3, late: 1))
                #expect(resumed.errors.isEmpty)
                #expect(try live.read("video", ["lv"], features) == [[.int(1)], [.int(8)], [.int(45)], [.int(10)], [.int(60)], [.int(11)]])
            }
            #expect(try live.log(of: "late").map(\.producerSequence) == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11])
            #expect(live.engine.statistics.late == 2)
            #expect(live.engine.statistics.rejected == 1)
        }
    }

    @Test("a producer that writes everything before reading acks is pushed back, not buffered")
    func backpressureBoundsServerMemory() async throws {
        try await withLiveEngine { live in
            let total = 200_000
            let lineLength = 700
            let linesPerWrite = 256
            let users = 100
            let videos = 50
            /// Line `i` (0-based), padded with an ignored field to exactly `lineLength` bytes.
            func line(_ i: Int) -> [UInt8] {
                let event = ViewEvent(seq: i + 1, user: "u\(i % users)", video: "v\(i % videos)", watch: Int64(i % 1000))
                let base = String(event.line.dropLast()) + ", \"pad\": \"\"}"
                let padded = String(base.dropLast(2)) + String(repeating: "p", count: lineLength - base.utf8.count) + "\"}"
                return Array(padded.utf8)
            }
            #expect(line(0).count == lineLength && line(total - 1).count == lineLength)
            try await withServer(live) { server, address in
                try await RawConnection.with(address) { connection in
                    let hello = "{\"producer\": \"bulk\"}\n"
                    try await connection.write(hello)
                    _ = try await connection.nextLine()
                    #expect(connection.replies.lastSequence == 0)
                    // The whole stream is built first, so the writes below outrun the server.
                    var stream: [UInt8] = []
                    stream.reserveCapacity(total * (lineLength + 1))
                    for i in 0..<total {
                        stream += line(i)
                        stream.append(UInt8(ascii: "\n"))
                    }
                    let before = try residentMemory()
                    // Bytes the server has read but whose events the engine has not applied yet:
                    // with backpressure, at most about two batches, a line and a read burst.
                    var mostUnsettled = 0
                    let writeSize = linesPerWrite * (lineLength + 1)
                    for start in stride(from: 0, to: stream.count, by: writeSize) {
                        try await connection.write(Array(stream[start..<min(start + writeSize, stream.count)]))
                        // Read first, then applied: the engine can only have moved on in between.
                        let read = server.statistics.bytes - hello.utf8.count
                        let applied = live.engine.statistics.accepted * (lineLength + 1)
                        mostUnsettled = max(mostUnsettled, read - applied)
                    }
                    let afterWriting = try residentMemory()
                    #expect(connection.replies.lastAck == 0, "no ack was read while writing")
                    #expect(mostUnsettled < 32 << 20, "the server read \(mostUnsettled) bytes ahead of the engine")
                    #expect(afterWriting - before < 300 << 20, "resident memory grew by \(afterWriting - before) bytes")

                    let ackedAll = try await connection.readUntilAck(of: total)
                    #expect(ackedAll)
                    #expect(connection.replies.totals == IngestTotals(accepted: total))
                    #expect(connection.replies.errors.isEmpty)
                    connection.finish()
                    try await connection.readToEnd()
                    let afterAcks = try residentMemory()
                    #expect(afterAcks - before < 300 << 20, "resident memory grew by \(afterAcks - before) bytes")
                }
            }
            #expect(live.engine.lastSequence(of: "bulk") == UInt64(total))
            #expect(live.engine.statistics.accepted == total)
            let counts = try live.read("video", (0..<videos).map { "v\($0)" }, ["video_stats.total"])[0]
            #expect(counts == Array(repeating: .int(Int64(total / videos)), count: videos))
            let watch = try live.read("user", ["u0", "u1"], ["user_stats.watch"])[0]
            let expected = (0..<2).map { user in FeatureValue.int((0..<total).filter { $0 % users == user }.reduce(Int64(0)) { $0 + Int64($1 % 1000) }) }
            #expect(watch == expected)
        }
    }
}
