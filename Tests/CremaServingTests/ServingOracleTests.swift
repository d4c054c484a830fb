import CremaAggregation
import CremaIngest
import Foundation
import Testing

@testable import CremaServing

/// Seeded random `view` streams for the oracle tests.
enum OracleStream {
    /// Midnight UTC; the fixed server clock reads 10:17:23.456 that day.
    static let midnight: Int64 = 1_700_006_400_000
    /// The fixed server clock.
    static let now = midnight + 10 * OracleSpec.hour + 17 * OracleSpec.minute + 23_456

    /// `count` events over six videos, eight users, six cohorts and six int-keyed accounts
    /// (one, account 6, never passes `account_stats`'s filter). Event times: most spread over
    /// the 50 hours before the clock (so some are too old for every window), some in its
    /// last 3 hours, a few up to `max_future` ahead, a few beyond it (rejected); about a
    /// third snapped to a 5-minute boundary, so times tie and fall on hops.
    static func events(seed: UInt64, count: Int) -> [OracleEvent] {
        var random = SplitMix64(seed: seed)
        let hour = OracleSpec.hour
        return (0..<count).map { _ in
            let account = [1, 2, 3, 4, -5, 6][Int.random(in: 0..<6, using: &random)]
            let roll = Int.random(in: 0..<100, using: &random)
            var ts: Int64
            switch roll {
            case 0..<2: ts = now + 60_001 + Int64.random(in: 0..<hour, using: &random)
            case 2..<5: ts = now + Int64.random(in: 0...60_000, using: &random)
            case 5..<25: ts = now - Int64.random(in: 0..<3 * hour, using: &random)
            default: ts = now - Int64.random(in: 0..<50 * hour, using: &random)
            }
            if roll >= 5 && Int.random(in: 0..<3, using: &random) == 0 {
                ts = floorDivide(ts, 5 * OracleSpec.minute) * 5 * OracleSpec.minute
            }
            let hasRating = Int.random(in: 0..<10, using: &random) >= 3
            return OracleEvent(
                user: "u\(Int.random(in: 0..<8, using: &random))",
                video: "v\(Int.random(in: 0..<6, using: &random))",
                country: ["US", "FR", "DE"][Int.random(in: 0..<3, using: &random)],
                category: ["music", "news"][Int.random(in: 0..<2, using: &random)],
                account: Int64(account),
                watch: Int64.random(in: 0..<(account == 6 ? 100 : 1_000), using: &random),
                score: Double(Int.random(in: -40...40, using: &random)) * 0.25,
                liked: Int.random(in: 0..<5, using: &random) < 2,
                rating: hasRating ? Int64.random(in: 1...5, using: &random) : nil,
                ts: ts,
                sendsNullRating: Bool.random(using: &random)
            )
        }
    }

    /// The read times: none (the server clock), the clock itself, and both sides of hop
    /// boundaries k·H and k·H − 1 now, hours back (where short windows' tiles are dropped),
    /// a day back (where the 1d window's old tiles are dropped too), in the future, days
    /// ahead (where rows of windowed groups have expired) and before every event.
    static let readTimes: [Int64?] = {
        let now = OracleStream.now, midnight = OracleStream.midnight
        let fiveMinutes = floorDivide(now, 5 * OracleSpec.minute) * 5 * OracleSpec.minute
        let hour = floorDivide(now, OracleSpec.hour) * OracleSpec.hour
        let halfHour = hour + 30 * OracleSpec.minute
        return [
            nil, now, fiveMinutes, fiveMinutes - 1, hour, hour - 1, halfHour - 1, midnight, midnight - 1,
            hour - 2 * OracleSpec.hour, hour - 2 * OracleSpec.hour - 1, hour - 26 * OracleSpec.hour, hour - 26 * OracleSpec.hour - 1,
            hour + 2 * OracleSpec.hour, hour + 2 * OracleSpec.hour - 1, now + 2 * OracleSpec.day + OracleSpec.hour, now - 4 * OracleSpec.day,
        ]
    }()
}

/// One id as the oracle, HTTP and gRPC each spell it.
struct OracleID {
    /// The entity key's parts as text.
    var key: [String]
    /// The id in a JSON request.
    var json: String
    /// The id in a gRPC request.
    var grpc: Crema_V1_EntityId

    static func text(_ text: String) -> OracleID {
        OracleID(key: [text], json: JSONText.quoted(text), grpc: GRPCFixture.text(text))
    }

    static func number(_ number: Int64) -> OracleID {
        OracleID(key: [String(number)], json: String(number), grpc: GRPCFixture.number(number))
    }

    /// An int key given as a string of digits.
    static func digits(_ number: Int64) -> OracleID {
        OracleID(key: [String(number)], json: JSONText.quoted(String(number)), grpc: GRPCFixture.text(String(number)))
    }

    static func cohort(_ country: String, _ category: String) -> OracleID {
        OracleID(key: [country, category], json: JSONText.strings([country, category]), grpc: GRPCFixture.composite([country, category]))
    }

    /// The ids read for each entity: every one seen, never-seen ones, duplicates, int keys
    /// as numbers and as strings, and an account every event of which the group's filter drops.
    static let byEntity: [String: [OracleID]] = [
        "video": (0..<6).map { text("v\($0)") } + [text("v404"), text("v0")],
        "user": (0..<8).map { text("u\($0)") } + [text("nobody")],
        "cohort": ["US", "FR", "DE"].flatMap { country in ["music", "news"].map { cohort(country, $0) } } + [cohort("JP", "music")],
        "account": [1, 2, 3, 4, -5, 6].map { number($0) } + [digits(3), digits(-5), number(999)],
    ]

    /// The entity broadcast alongside each entity's candidates, and the ids it cycles through.
    static let broadcasts: [String: (entity: String, ids: [OracleID])] = [
        "video": ("user", [text("u1"), text("nobody"), text("u5")]),
        "user": ("cohort", [cohort("US", "music"), cohort("JP", "news")]),
        "cohort": ("account", [number(2), digits(6), digits(4)]),
        "account": ("video", [text("v3"), text("v404")]),
    ]
}

/// Counts mismatches and records the first few in detail, so a systematic bug reports
/// readably instead of thousands of times.
struct MismatchLog {
    private(set) var count = 0
    private(set) var checked = 0

    mutating func check(_ isMatch: Bool, _ description: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        checked += 1
        guard !isMatch else { return }
        count += 1
        if count <= 25 { Issue.record(Comment(rawValue: description()), sourceLocation: sourceLocation) }
    }
}

@Suite("Reads over HTTP and gRPC agree with a brute-force oracle")
struct ServingOracleTests {
    @Test("random streams through the ingest socket: every feature of every entity at hop boundaries, now, past and future", arguments: [11, 2_024, 777_777] as [UInt64])
    func oracleAgreement(seed: UInt64) async throws {
        let events = OracleStream.events(seed: seed, count: 700)
        let oracle = ServingOracle(now: OracleStream.now, events: events)
        // The stream exercises what it is meant to.
        #expect(oracle.rejected > 0 && oracle.late > 0 && oracle.accepted > 600)

        try await ServingStack.with(specText: OracleSpec.yaml, now: OracleStream.now) { stack in
            let summary = try await stack.send(lines: events.map(\.line))
            #expect(summary.acknowledgedLine == events.count)
            #expect(summary.totals == IngestTotals(accepted: oracle.accepted, rejected: oracle.rejected, duplicates: 0, late: oracle.late))
            #expect(summary.errors.count == oracle.rejected)
            #expect(summary.errors.allSatisfy { events[$0.line - 1].ts > OracleStream.now + 60_000 && $0.message.contains("ahead") })

            var log = MismatchLog()
            for (index, at) in OracleStream.readTimes.enumerated() {
                for entity in ["video", "user", "cohort", "account"] {
                    let ids = OracleID.byEntity[entity]!
                    let features = OracleSpec.features(of: entity)
                    let (broadcastEntity, broadcastIDs) = OracleID.broadcasts[entity]!
                    let broadcastID = broadcastIDs[index % broadcastIDs.count]
                    let broadcastFeatures = OracleSpec.features(of: broadcastEntity)
                    let time = at ?? OracleStream.now
                    let expected = features.map { feature in ids.map { oracle.value(feature, key: $0.key, at: time) } }
                    let expectedBroadcast = broadcastFeatures.map { oracle.value($0, key: broadcastID.key, at: time) }
                    let context = "seed \(seed), at \(at.map(String.init) ?? "none"), entity \(entity)"

                    // HTTP
                    let idsText = "[" + ids.map(\.json).joined(separator: ", ") + "]"
                    let body = "{\"entity\": \"\(entity)\", \"ids\": \(idsText), \"features\": \(JSONText.strings(features)), "
                        + "\"broadcast\": {\"entity\": \"\(broadcastEntity)\", \"id\": \(broadcastID.json), \"features\": \(JSONText.strings(broadcastFeatures))}"
                        + (at.map { ", \"at\": \($0)}" } ?? "}")
                    let response = try await stack.postFeatures(body)
                    try #require(response.status == 200, "\(context): \(response.text)")
                    #expect(response.text.hasPrefix("{\"ids\":\(idsText),"), "\(context): ids echoed as given")
                    let object = try JSONText.object(response)
                    let columns = try #require(object["features"] as? [String: Any])
                    #expect(columns.count == features.count)
                    for (feature, values) in zip(features, expected) {
                        let column = try #require(columns[feature] as? [Any], "\(context): \(feature)")
                        try #require(column.count == ids.count)
                        for (row, (want, got)) in zip(values, column).enumerated() {
                            log.check(
                                OracleMatch.matches(want, json: got, tolerance: OracleMatch.tolerance(of: feature)),
                                "HTTP \(context), \(feature) of \(ids[row].json): expected \(want), got \(got)"
                            )
                        }
                    }
                    let broadcast = try #require(object["broadcast"] as? [String: Any])
                    #expect(broadcast.count == broadcastFeatures.count)
                    for (feature, want) in zip(broadcastFeatures, expectedBroadcast) {
                        log.check(
                            broadcast[feature].map { OracleMatch.matches(want, json: $0, tolerance: OracleMatch.tolerance(of: feature)) } ?? false,
                            "HTTP \(context), broadcast \(feature) of \(broadcastID.json): expected \(want), got \(broadcast[feature] ?? "nothing")"
                        )
                    }

                    // gRPC
                    var request = GRPCFixture.request(entity, ids.map(\.grpc), features, at: at)
                    request.broadcast.entity = broadcastEntity
                    request.broadcast.id = broadcastID.grpc
                    request.broadcast.features = broadcastFeatures
                    let reply = try await stack.grpc.get(request)
                    #expect(reply.ids == ids.map(\.grpc))
                    try #require(reply.columns.map(\.name) == features, "\(context)")
                    for (column, values) in zip(reply.columns, expected) {
                        try #require(column.length == Int64(ids.count))
                        for (row, (want, got)) in zip(values, Self.decoded(column)).enumerated() {
                            log.check(
                                OracleMatch.matches(want, got, tolerance: OracleMatch.tolerance(of: column.name)),
                                "gRPC \(context), \(column.name) of \(ids[row].json): expected \(want), got \(got)"
                            )
                        }
                    }
                    try #require(reply.broadcast.map(\.name) == broadcastFeatures, "\(context)")
                    for (column, want) in zip(reply.broadcast, expectedBroadcast) {
                        let got = Self.decoded(column)
                        log.check(
                            got.count == 1 && OracleMatch.matches(want, got[0], tolerance: OracleMatch.tolerance(of: column.name)),
                            "gRPC \(context), broadcast \(column.name) of \(broadcastID.json): expected \(want), got \(got)"
                        )
                    }
                }
            }
            #expect(log.count == 0, "\(log.count) of \(log.checked) values differ from the oracle")
            #expect(log.checked > 5_000)
        }
    }

    /// A column's rows; a histogram's list of `{key, count}` entries becomes the object
    /// HTTP writes, so both protocols compare against the same expected value.
    static func decoded(_ column: Crema_V1_Column) -> [FeatureValue] {
        let rows = ColumnDecoder.values(of: column)
        guard OracleSpec.isHistogram(column.name) else { return rows }
        return rows.map { row in
            guard case .list(let entries) = row else { return row }
            return .object(entries.map { entry in
                guard case .object(let members) = entry, members.count == 2, case .string(let key) = members[0].value else {
                    return FeatureValue.Member("?", entry)
                }
                return FeatureValue.Member(key, members[1].value)
            })
        }
    }
}
