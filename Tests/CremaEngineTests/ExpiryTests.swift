import CremaAggregation
import CremaEngine
import CremaStorage
import Foundation
import Testing

/// Rows expire as DESIGN.md's "Storage" says, and read as null then ("Values a read returns").
@Suite("Row expiry")
struct ExpiryTests {
    private static let spec = """
        events:
          click:
            time: ts
            fields: { item: string, user: string, amount: int }
        entities:
          item: { key: item }
          user: { key: user }
        features:
          item_recent:
            entity: item
            from: click
            aggregates:
              clicks: { op: count, windows: [1h] }
              amount: { op: sum, field: amount, windows: [1d] }
          item_forever:
            entity: item
            from: click
            aggregates:
              total: { op: count }
          user_totals:
            entity: user
            from: click
            ttl: 2h
            aggregates:
              clicks: { op: count }
              last_item: { op: last, field: item }
        """

    private static let start: Int64 = 1_763_900_000_000
    private static let hour: Int64 = 3_600_000
    /// The event time of the tests' clicks: 34 min 56 s past an hour.
    private static let clickTime = start - start % hour + 45_296_000 % hour

    private func click(_ item: String, _ user: String, ts: Int64, amount: Int = 5) -> String {
        #"{"type": "click", "ts": \#(ts), "item": "\#(item)", "user": "\#(user)", "amount": \#(amount)}"#
    }

    /// The first read time at which a row of `item_recent` whose newest event is at `time` is
    /// expired: the 1h window (5-minute hops) and the 1d window (hourly hops) both start after it.
    private func windowsExpire(after time: Int64) -> Int64 {
        let fiveMinutes: Int64 = 300_000
        return max((floorDivide(time, fiveMinutes) + 1) * fiveMinutes + Self.hour, (floorDivide(time, Self.hour) + 1) * Self.hour + 24 * Self.hour)
    }

    @Test("a row whose newest event is outside every window reads as null, from memory and from RocksDB; lifetime rows stay")
    func windowedRowsExpire() async throws {
        let harness = try EngineHarness(spec: Self.spec, now: Self.clickTime)
        try await harness.send([click("a", "u", ts: Self.clickTime, amount: 7)])
        let expiresAt = windowsExpire(after: Self.clickTime)
        for round in 0..<2 {
            // Twice each: computed from the row, then from the result cache.
            for _ in 0..<2 {
                #expect(try harness.read("item", ["a"], ["item_recent.clicks_1h", "item_recent.amount_1d"], at: expiresAt - 1) == [[.int(0)], [.int(7)]])
                #expect(try harness.read("item", ["a"], ["item_recent.clicks_1h", "item_recent.amount_1d"], at: expiresAt) == [[.null], [.null]])
                #expect(try harness.value("item", "a", "item_forever.total", at: expiresAt + 100 * Self.hour) == .int(1))
            }
            if round == 0 { try harness.restart() }
        }
    }

    @Test("a group with ttl expires rows with lifetime state; an event after expiry starts the row afresh")
    func ttlRowsExpireAndRestart() async throws {
        let harness = try EngineHarness(spec: Self.spec, now: Self.clickTime)
        try await harness.send([click("a", "u", ts: Self.clickTime), click("b", "u", ts: Self.clickTime - 10)])
        let ttl = 2 * Self.hour
        #expect(try harness.read("user", ["u"], ["user_totals.clicks", "user_totals.last_item"], at: Self.clickTime + ttl) == [[.int(2)], [.string("a")]])
        #expect(try harness.read("user", ["u"], ["user_totals.clicks", "user_totals.last_item"], at: Self.clickTime + ttl + 1) == [[.null], [.null]])
        harness.clock.now = Self.clickTime + ttl + 60_000
        try await harness.send([click("c", "u", ts: harness.clock.now)])
        #expect(try harness.read("user", ["u"], ["user_totals.clicks", "user_totals.last_item"]) == [[.int(1)], [.string("c")]])
        try harness.restart()
        #expect(try harness.read("user", ["u"], ["user_totals.clicks", "user_totals.last_item"]) == [[.int(1)], [.string("c")]])
    }

    @Test("expired rows leave memory at the writer's sweep and RocksDB at compaction")
    func expiredRowsAreRemoved() async throws {
        let harness = try EngineHarness(spec: Self.spec, now: Self.clickTime, checkpointInterval: .milliseconds(1), checkpointRows: 1)
        try await harness.send((0..<20).map { click("i\($0)", "u\($0)", ts: Self.clickTime) })
        let rowsBefore = harness.engine.rowsInMemory
        #expect(rowsBefore == 60)
        // Past the ttl of user_totals, not past item_recent's windows.
        harness.clock.now = Self.clickTime + 3 * Self.hour
        try await Task.sleep(for: .milliseconds(5))
        try await harness.send([click("fresh", "fresh", ts: harness.clock.now)])
        #expect(harness.engine.rowsInMemory == rowsBefore - 20 + 3)
        #expect(harness.engine.statistics.expiredRows == 20)

        func storedRows() throws -> Int {
            var count = 0
            try harness.database.scan(in: .rows) { _, _ in
                count += 1
                return true
            }
            return count
        }
        #expect(try storedRows() == 63)
        harness.database.compactRange(in: .rows)
        #expect(try storedRows() == 43)
        #expect(try harness.value("user", "u3", "user_totals.clicks") == .null)
        #expect(try harness.value("item", "i3", "item_forever.total") == .int(1))
    }

    @Test("a sweep pass over more rows than one step looks at removes every expired row and no other")
    func sweepAcrossSlices() async throws {
        let harness = try EngineHarness(spec: Self.spec, now: Self.clickTime, checkpointInterval: .milliseconds(1), checkpointRows: 1)
        let users = 20_000
        try await harness.send((0..<users).map { click("i\($0)", "u\($0)", ts: Self.clickTime) })
        let rowsBefore = harness.engine.rowsInMemory
        harness.clock.now = Self.clickTime + 3 * Self.hour
        // item_recent (not expired) and user_totals (all past the ttl) each span two slices of
        // `Engine.expirySweepSlots`; each writer step, idle or not, sweeps one slice.
        for _ in 0..<500 where harness.engine.statistics.expiredRows < users {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(harness.engine.statistics.expiredRows == users)
        #expect(harness.engine.rowsInMemory == rowsBefore - users)
        #expect(try harness.read("user", ["u0", "u19999"], ["user_totals.clicks"]) == [[.null, .null]])
        #expect(try harness.read("item", ["i0", "i19999"], ["item_forever.total"]) == [[.int(1), .int(1)]])
    }
}
