import CremaAggregation
import CremaEngine
import CremaStorage
import Foundation
import Testing

private let spec = """
events:
  view:
    time: ts
    fields: { user_id: string, video_id: string, watch_ms: int, liked: bool, country: string? }
entities:
  user: { key: user_id }
  video: { key: video_id }
features:
  video_stats:
    entity: video
    from: view
    where: watch_ms >= 0
    aggregates:
      views: { op: count, windows: [1h, 1d] }
      watch: { op: sum, field: watch_ms, windows: [1d] }
      likes: { op: count, where: liked, windows: [1d] }
      total: { op: count }
  user_history:
    entity: user
    from: view
    aggregates:
      recent: { op: last_n, field: video_id, n: 3 }
"""

private let hour: Int64 = 3_600_000
private let start: Int64 = 1_763_900_000_000

private func view(_ user: String, _ video: String, ts: Int64, watch: Int = 10, liked: Bool = false, seq: Int? = nil) -> String {
    let sequence = seq.map { "\"seq\": \($0), " } ?? ""
    return "{\(sequence)\"type\": \"view\", \"ts\": \(ts), \"user_id\": \"\(user)\", \"video_id\": \"\(video)\", \"watch_ms\": \(watch), \"liked\": \(liked)}"
}

@Suite("Engine")
struct EngineTests {
    @Test("applies events through every group and reads the features back")
    func appliesAndReads() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        let outcome = try await harness.send([
            view("u1", "v1", ts: start - 10, watch: 100, liked: true),
            view("u1", "v2", ts: start - 5, watch: 50),
            view("u2", "v1", ts: start - 2 * hour, watch: 7),
            view("u2", "v1", ts: start - 1, watch: -1),
        ])
        #expect(outcome.accepted == 4)
        #expect(outcome.late == 0)
        let columns = try harness.read(
            "video", ["v1", "v2", "never"],
            ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_1d", "video_stats.likes_1d", "video_stats.total"]
        )
        #expect(columns[0] == [.int(1), .int(1), .null])
        #expect(columns[1] == [.int(2), .int(1), .null])
        #expect(columns[2] == [.int(107), .int(50), .null])
        #expect(columns[3] == [.int(1), .int(0), .null])
        #expect(columns[4] == [.int(2), .int(1), .null])
        #expect(try harness.value("user", "u2", "user_history.recent") == .list([.string("v1"), .string("v1")]))
        #expect(try harness.value("user", "u1", "user_history.recent") == .list([.string("v2"), .string("v1")]))
    }

    @Test("a named producer's events are applied once, across restarts")
    func exactlyOnceAcrossRestart() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        let first = try await harness.send((1...5).map { view("u1", "v1", ts: start - 100, seq: $0) }, producer: "p1")
        #expect(first.accepted == 5)
        #expect(harness.engine.lastSequence(of: "p1") == 5)
        try harness.restart()
        #expect(harness.engine.lastSequence(of: "p1") == 5)
        #expect(harness.engine.lastSequence(of: "other") == 0)
        let resent = try await harness.send((3...8).map { view("u1", "v1", ts: start - 100, seq: $0) }, producer: "p1")
        #expect(resent.accepted == 3)
        #expect(resent.duplicates == 3)
        let backwards = try await harness.send([view("u1", "v1", ts: start - 100, seq: 20), view("u1", "v1", ts: start - 100, seq: 19)], producer: "p1")
        #expect(backwards.accepted == 1)
        #expect(backwards.duplicates == 1)
        #expect(try harness.value("video", "v1", "video_stats.total") == .int(9))
        #expect(harness.engine.statistics.duplicates == 4)
    }

    @Test("rows survive a restart and read the same from disk")
    func rowsSurviveRestart() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        try await harness.send((0..<50).map { view("u\($0 % 7)", "v\($0 % 5)", ts: start - Int64($0) * 60_000, watch: $0) })
        let features = ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_1d", "video_stats.total"]
        let ids = (0..<6).map { "v\($0)" }
        let before = try harness.read("video", ids, features)
        let history = try harness.read("user", (0..<7).map { "u\($0)" }, ["user_history.recent"])
        try harness.restart()
        #expect(harness.engine.rowsInMemory == 0)
        #expect(try harness.read("video", ids, features) == before)
        #expect(try harness.read("user", (0..<7).map { "u\($0)" }, ["user_history.recent"]) == history)
        try await harness.send([view("u0", "v0", ts: start)])
        #expect(try harness.value("video", "v0", "video_stats.total") == before[3][0].adding(1))
    }

    @Test("events too old for every window are late but count in lifetime aggregates")
    func lateEvents() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        let outcome = try await harness.send([view("u1", "v1", ts: start - 3 * 86_400_000), view("u1", "v1", ts: start - hour / 2)])
        #expect(outcome.accepted == 2)
        #expect(outcome.late == 1)
        #expect(try harness.value("video", "v1", "video_stats.views_1d") == .int(1))
        #expect(try harness.value("video", "v1", "video_stats.total") == .int(2))
        #expect(harness.engine.statistics.late == 1)
    }

    @Test("events more than max_future ahead are rejected with their line")
    func futureEventsRejected() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        let outcome = try await harness.send([view("u1", "v1", ts: start + 59_000), view("u1", "v1", ts: start + 61_000)])
        #expect(outcome.accepted == 1)
        #expect(outcome.rejections.map(\.line) == [2])
        #expect(try harness.value("video", "v1", "video_stats.total") == .int(1))
    }

    @Test("a changed spec keeps unchanged aggregates and starts new ones empty")
    func specChange() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        try await harness.send([view("u1", "v1", ts: start - 10, watch: 5)])
        let changed = spec.replacingOccurrences(of: "watch: { op: sum, field: watch_ms, windows: [1d] }", with: "watch: { op: sum, field: watch_ms, windows: [7d] }")
            .replacingOccurrences(of: "total: { op: count }", with: "total: { op: count }\n      reach: { op: approx_distinct, field: user_id, windows: [1d] }")
        try harness.restart(spec: changed)
        #expect(try harness.value("video", "v1", "video_stats.total") == .int(1))
        #expect(try harness.value("video", "v1", "video_stats.watch_7d") == .int(0))
        #expect(try harness.value("video", "v1", "video_stats.reach_1d") == .int(0))
        try await harness.send([view("u2", "v1", ts: start - 5, watch: 3)])
        #expect(try harness.value("video", "v1", "video_stats.watch_7d") == .int(3))
        #expect(try harness.value("video", "v1", "video_stats.total") == .int(2))
    }

    @Test("unknown entities and features are bad requests naming them")
    func badReads() throws {
        let harness = try EngineHarness(spec: spec, now: start)
        #expect(throws: EngineError.self) { try harness.read("nope", ["x"], ["video_stats.views_1d"]) }
        do {
            _ = try harness.read("video", ["x"], ["video_stats.nope_1d"])
            Issue.record("expected an error")
        } catch let error as EngineError {
            #expect(error.code == .badRequest)
            #expect(error.message.contains("video_stats.nope_1d"))
        }
        do {
            _ = try harness.read("video", ["x"], ["user_history.recent"])
            Issue.record("expected an error")
        } catch let error as EngineError {
            #expect(error.message.contains("user_history.recent"))
        }
    }

    @Test("the log keeps every accepted event's raw line")
    func logKeepsRawEvents() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        let lines = (1...3).map { view("u\($0)", "v1", ts: start - Int64($0), seq: $0) }
        try await harness.send(lines, producer: "p")
        try await harness.send([lines[0]], producer: "p")
        let records = try harness.engine.loggedEvents()
        #expect(records.map { String(decoding: $0.line, as: UTF8.self) } == lines)
        #expect(records.map(\.producerSequence) == [1, 2, 3])
        #expect(Set(records.map(\.arrivalSequence)).count == 3)
    }

    @Test("the log read from an arrival number starts within the block holding it")
    func logFromAnArrival() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        // Three commits of 3 events each: three log blocks.
        for batch in 0..<3 {
            try await harness.send((1...3).map { view("u\(batch)\($0)", "v1", ts: start - Int64($0)) })
        }
        let all = try harness.engine.loggedEvents()
        #expect(all.count == 9)
        for from in [0, 1, 3, 4, 5, 8, 9] {
            let sequence = from < all.count ? all[from].arrivalSequence : all[all.count - 1].arrivalSequence + 1
            #expect(try harness.engine.loggedEvents(from: sequence) == Array(all[from...]))
        }
    }
}

extension FeatureValue {
    /// An int value plus `amount`, for expectations.
    func adding(_ amount: Int64) -> FeatureValue {
        guard case .int(let value) = self else { return self }
        return .int(value + amount)
    }
}

@Suite("Engine read cache")
struct ReadCacheTests {
    @Test("reads served from the row cache agree with reads finalized from stored rows, at any read time")
    func cachedReadsAgreeWithStoredRows() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        var random = SystemRandomNumberGenerator()
        let features = ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_1d", "video_stats.likes_1d", "video_stats.total"]
        let ids = (0..<4).map { "v\($0)" }
        var readTimes: [Int64] = []
        for round in 0..<6 {
            let lines = (0..<40).map { _ in
                view("u\(Int.random(in: 0..<5, using: &random))", ids.randomElement(using: &random)!,
                     ts: start - Int64.random(in: 0..<(30 * hour), using: &random), watch: Int.random(in: 0..<100, using: &random),
                     liked: Bool.random(using: &random))
            }
            try await harness.send(lines)
            // Read each time twice (the second from the cache), at edges of 5m and 1h tiles too.
            let times = (0..<8).map { _ in start - Int64.random(in: 0..<(26 * hour), using: &random) }
                + [start, start - start % hour, start - start % hour - 1, start - start % 300_000 + 299_999]
            for time in times {
                let first = try harness.read("video", ids, features, at: time)
                #expect(try harness.read("video", ids, features, at: time) == first, "round \(round) at \(time)")
            }
            readTimes += times
        }
        var hot: [[[FeatureValue]]] = []
        for time in readTimes { hot.append(try harness.read("video", ids, features, at: time)) }
        try harness.restart()
        #expect(harness.engine.rowsInMemory == 0)
        for (time, expected) in zip(readTimes, hot) {
            #expect(try harness.read("video", ids, features, at: time) == expected, "at \(time)")
        }
    }

    @Test("a new event is visible to the next read of a cached row")
    func eventsInvalidateTheCache() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        try await harness.send([view("u1", "v1", ts: start - 10)])
        #expect(try harness.value("video", "v1", "video_stats.views_1h") == .int(1))
        #expect(try harness.value("video", "v1", "video_stats.views_1h") == .int(1))
        try await harness.send([view("u2", "v1", ts: start - 5)])
        #expect(try harness.value("video", "v1", "video_stats.views_1h") == .int(2))
        #expect(try harness.value("user", "u2", "user_history.recent") == .list([.string("v1")]))
        harness.clock.now = start + 2 * hour
        #expect(try harness.value("video", "v1", "video_stats.views_1h") == .int(0))
        #expect(try harness.value("video", "v1", "video_stats.views_1d") == .int(2))
    }
}

@Suite("Engine event log")
struct EventLogTests {
    @Test("raw events older than retain_events are trimmed once the rows reflect them")
    func trimsOldEvents() async throws {
        let harness = try EngineHarness(spec: spec, now: start, retainEvents: hour)
        try await harness.send([view("u1", "v1", ts: start - 10), view("u2", "v1", ts: start - 5)])
        harness.clock.now = start + 30 * 60_000
        try await harness.send([view("u3", "v1", ts: start + 30 * 60_000 - 5)])
        #expect(try harness.engine.loggedEvents().count == 3)
        // Past the retention of the first two; a restart checkpoints, so the rows reflect them.
        try harness.restart()
        harness.clock.now = start + 90 * 60_000
        try await harness.send([view("u4", "v1", ts: start + 90 * 60_000 - 5)])
        // The writer trims after it acks; its next commit comes after that trim.
        try await harness.send([view("u5", "v1", ts: start + 90 * 60_000 - 4)])
        let users = try harness.engine.loggedEvents().map { String(decoding: $0.line, as: UTF8.self) }
        #expect(users.count == 3)
        #expect(users.allSatisfy { !$0.contains("\"u1\"") && !$0.contains("\"u2\"") })
        #expect(try harness.value("video", "v1", "video_stats.total") == .int(5))
    }

    @Test("nothing the stored rows do not reflect yet is trimmed")
    func keepsWhatTheCheckpointNeeds() async throws {
        let harness = try EngineHarness(spec: spec, now: start, retainEvents: hour, checkpointInterval: .seconds(3_600))
        try await harness.send([view("u1", "v1", ts: start - 10)])
        harness.clock.now = start + 2 * hour
        try await harness.send([view("u2", "v1", ts: start + 2 * hour - 5)])
        // The writer trims after it acks; its next commit comes after that trim.
        try await harness.send([view("u3", "v1", ts: start + 2 * hour - 4)])
        // No checkpoint has run since the first event, so replay still needs it.
        #expect(try harness.engine.loggedEvents().count == 3)
    }
}

@Suite("Engine large reads")
struct LargeReadTests {
    @Test("a read of thousands of ids (split across cores) equals reading them one by one, in memory and from disk")
    func largeReadsAgreeWithSingleReads() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        let lines = (0..<6_000).map { number in
            view("u\(number % 50)", "v\(number % 3_000)", ts: start - Int64(number) * 17_000, watch: number % 97, liked: number % 3 == 0)
        }
        try await harness.send(lines)
        // Seen and never-seen ids, some twice.
        let ids = (0..<5_000).map { "v\(($0 * 7) % 3_500)" }
        let features = ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_1d", "video_stats.likes_1d", "video_stats.total"]
        for round in 0..<2 {
            let batched = try harness.read("video", ids, features)
            for (position, id) in ids.enumerated() where position % 7 == 0 {
                let single = try harness.read("video", [id], features)
                #expect(batched.map { $0[position] } == single.map { $0[0] }, "round \(round), \(id)")
            }
            #expect(batched[4][ids.firstIndex(of: "v3101")!] == .null, "a never-seen id reads as null")
            try harness.restart()
        }
    }
}

@Suite("Engine memory bound")
struct MemoryBoundTests {
    @Test("rows read from disk are brought into memory by the writer, read the same there and take events")
    func rowsReadFromDiskComeIntoMemory() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        try await harness.send((0..<50).map { view("u\($0 % 7)", "v\($0 % 5)", ts: start - Int64($0) * 60_000, watch: $0) })
        let features = ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_1d", "video_stats.total"]
        let ids = (0..<6).map { "v\($0)" }  // v5 has no row
        let before = try harness.read("video", ids, features)
        try harness.restart()
        #expect(harness.engine.rowsInMemory == 0)
        #expect(try harness.read("video", ids, features) == before)
        #expect(try await rowsInMemory(of: harness, reach: 5), "the five stored rows read, and no row for v5")
        #expect(try harness.read("video", ids, features) == before)
        try await harness.send([view("u0", "v0", ts: start)])
        #expect(try harness.value("video", "v0", "video_stats.total") == before[3][0].adding(1))
    }

    @Test("rows read from disk come into memory only while they fit in the memory budget")
    func rowsReadFromDiskStayWithinBudget() async throws {
        let harness = try EngineHarness(spec: spec, now: start, rowMemoryBudget: 50_000)
        let unbounded = try EngineHarness(spec: spec, now: start)
        let ids = (0..<600).map { "v\($0)" }
        let lines = ids.enumerated().map { number, id in view("u\(number % 7)", id, ts: start - Int64(number) * 1_000, watch: number % 50) }
        try await harness.send(lines)
        try await unbounded.send(lines)
        let features = ["video_stats.views_1h", "video_stats.watch_1d", "video_stats.total"]
        try harness.restart()
        #expect(try harness.read("video", ids, features) == unbounded.read("video", ids, features))
        #expect(try await rowsInMemory(of: harness, reach: 1), "some rows come into memory")
        // Give the writer time for every request; then the budget still holds.
        try await Task.sleep(for: .milliseconds(300))
        #expect(harness.engine.estimatedRowMemory <= 50_000, "\(harness.engine.estimatedRowMemory) bytes")
        #expect(harness.engine.rowsInMemory < 300, "\(harness.engine.rowsInMemory) rows in memory")
        #expect(try harness.read("video", ids, features) == unbounded.read("video", ids, features))
    }

    @Test("a stored row that an event brings into memory counts toward the memory estimate at once")
    func rowsLoadedByEventsAreSized() async throws {
        let harness = try EngineHarness(spec: spec, now: start)
        try await harness.send((0..<20).map { view("u\($0 % 7)", "v\($0)", ts: start - Int64($0) * 1_000) })
        try harness.restart()
        let before = harness.engine.estimatedRowMemory
        try await harness.send([view("u0", "v3", ts: start)])
        #expect(harness.engine.estimatedRowMemory > before, "sized when loaded, not at its next checkpoint")
    }

    /// Whether `harness`'s engine holds at least `count` rows within 5 s (the writer loads rows
    /// that reads found on disk once no read is in progress).
    private func rowsInMemory(of harness: EngineHarness, reach count: Int) async throws -> Bool {
        for _ in 0..<500 where harness.engine.rowsInMemory < count {
            try await Task.sleep(for: .milliseconds(10))
        }
        return harness.engine.rowsInMemory >= count
    }

    @Test("rows beyond the memory budget leave memory after checkpoints and read, and take events, from RocksDB")
    func evictedRowsReadAndUpdateFromStorage() async throws {
        // A budget of 50 kB holds a few dozen of these rows (about 1 kB each, estimated);
        // a checkpoint follows every commit.
        let bounded = try EngineHarness(spec: spec, now: start, rowMemoryBudget: 50_000, checkpointRows: 1)
        let unbounded = try EngineHarness(spec: spec, now: start)
        let ids = (0..<600).map { "v\($0)" }
        let features = ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_1d", "video_stats.total"]
        for round in 0..<3 {
            let lines = ids.enumerated().map { number, id in
                view("u\(number % 7)", id, ts: start - Int64(number + round * 600) * 1_000, watch: number % 50, liked: number % 2 == 0)
            }
            for chunk in stride(from: 0, to: lines.count, by: 100) {
                let part = Array(lines[chunk..<min(chunk + 100, lines.count)])
                try await bounded.send(part)
                try await unbounded.send(part)
            }
            #expect(bounded.engine.rowsInMemory < 300, "round \(round): \(bounded.engine.rowsInMemory) rows in memory")
            #expect(try bounded.read("video", ids + ["never"], features) == unbounded.read("video", ids + ["never"], features), "round \(round)")
        }
        try bounded.restart()
        #expect(try bounded.read("video", ids, features) == unbounded.read("video", ids, features))
    }
}

@Suite("Engine checkpoints")
struct CheckpointTests {
    @Test("checkpoints count the rows they write and the time they take")
    func checkpointsAreCounted() async throws {
        // One commit changes 5 videos and 2 users, and no row is due for an hour: the commit's
        // checkpoint writes the 5 rows changed first (at most 2 may wait), shutdown the other 2.
        let harness = try EngineHarness(spec: spec, now: start, checkpointInterval: .seconds(3_600), checkpointRows: 3)
        try await harness.send((0..<10).map { view("u\($0 % 2)", "v\($0 % 5)", ts: start - Int64($0) * 1_000) })
        harness.engine.shutdown()
        let counters = harness.engine.statistics
        #expect(counters.rowsWritten == 7, "each changed row once")
        #expect(counters.checkpoints == 2)
        #expect(counters.checkpointTime > .zero)
    }

    @Test("a crash after only some changed rows were written restores exactly the acknowledged state")
    func partialCheckpointsReplayExactly() async throws {
        // At most two rows stay unwritten, so every commit writes the rows changed longest ago:
        // stored rows hold events after the checkpoint mark, which replay must not apply twice.
        let harness = try EngineHarness(spec: spec, now: start, checkpointInterval: .seconds(3_600), checkpointRows: 3)
        for round in 0..<6 {
            try await harness.send((0..<40).map { number in
                view("u\((number + round) % 4)", "v\((number * 7 + round) % 13)", ts: start - Int64(number * 60_000 + round), watch: number + round, liked: number % 3 == 0)
            })
        }
        // What a crash now would leave on disk: a consistent copy of the live database.
        let copy = harness.directory.path + "-copy"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try harness.database.saveCopy(to: copy)

        let database = try Database(path: copy)
        let mark = try MetaStore.checkpoint(in: database)
        #expect(mark < (try MetaStore.nextArrival(in: database)), "events after the mark await replay")
        var rowsPastMark = 0
        try database.scan(in: .rows) { _, value in
            let view = try RowView(bytes: value)
            if view.nextArrival > mark { rowsPastMark += 1 }
            return true
        }
        #expect(rowsPastMark > 0, "some stored rows hold events after the mark")

        var configuration = EngineConfiguration()
        configuration.clock = { start }
        let recovered = try Engine(spec: harness.spec, database: database, configuration: configuration)
        defer { recovered.shutdown() }
        let videos = (0..<13).map { "v\($0)" }
        let videoFeatures = ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_1d", "video_stats.likes_1d", "video_stats.total"]
        let users = (0..<4).map { "u\($0)" }
        for (entity, ids, features) in [("video", videos, videoFeatures), ("user", users, ["user_history.recent"])] {
            let references = try recovered.resolve(features: features, of: entity)
            let restored = try recovered.read(ids: .texts(PackedTexts(ids)), features: references, at: start).map(\.values)
            #expect(restored == (try harness.read(entity, ids, features, at: start)), "\(entity)")
        }
    }
}
