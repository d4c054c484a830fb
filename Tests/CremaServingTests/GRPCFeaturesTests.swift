import CremaAggregation
import CremaEngine
import CremaSpec
import CremaStorage
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOPosix
import Testing

@testable import CremaServing

/// The engine, events and helpers the gRPC tests share.
enum GRPCFixture {
    /// Every column layout: counts, int and float sums, mean, top_k, histogram, bool and vector
    /// `last`, approx_quantile, decayed_count, last_n, sequence (with an optional field), a
    /// cohort and an int-keyed entity.
    static let specText = """
        events:
          view:
            time: ts
            fields: { user_id: string, video_id: string, country: string, category: string, watch_ms: int,
                      score: float, liked: bool, account_id: int, embedding: "vector[3]", note: string? }
        entities:
          user: { key: user_id }
          video: { key: video_id }
          account: { key: account_id }
          country_category: { key: [country, category] }
        features:
          video_stats:
            entity: video
            from: view
            aggregates:
              views: { op: count, windows: [1h, 1d] }
              watch_time: { op: sum, field: watch_ms, windows: [1d] }
              score_total: { op: sum, field: score, windows: [1d] }
              mean_watch: { op: mean, field: watch_ms, windows: [1d] }
              countries: { op: top_k, field: country, k: 2, windows: [1d] }
              categories: { op: histogram, field: category, windows: [1d] }
              liked: { op: last, field: liked, windows: [1d] }
              embedding: { op: last, field: embedding, windows: [1d] }
              watch_quantiles: { op: approx_quantile, field: watch_ms, quantiles: [0.5, 0.99], windows: [1d] }
              trending: { op: decayed_count, half_life: 1h }
          user_history:
            entity: user
            from: view
            aggregates:
              recent_videos: { op: last_n, field: video_id, n: 3 }
              recent_views: { op: sequence, fields: [video_id, watch_ms, note], n: 2 }
              embedding: { op: last, field: embedding }
          cohort_stats:
            entity: country_category
            from: view
            aggregates:
              views: { op: count, windows: [1d] }
          account_stats:
            entity: account
            from: view
            aggregates:
              total_watch: { op: sum, field: watch_ms }
        """

    /// Every feature of the video entity.
    static let videoFeatures = [
        "video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_time_1d", "video_stats.score_total_1d",
        "video_stats.mean_watch_1d", "video_stats.countries_1d", "video_stats.categories_1d", "video_stats.liked_1d",
        "video_stats.embedding_1d", "video_stats.watch_quantiles_1d", "video_stats.trending",
    ]

    /// Every feature of the user entity.
    static let userFeatures = ["user_history.recent_videos", "user_history.recent_views", "user_history.embedding"]

    /// An hour boundary; the test clock reads half an hour later.
    static let base: Int64 = 1_699_999_200_000
    /// The test clock's time.
    static let now = base + 1_800_000

    /// The events every test starts from; the last one is two hours old (outside `views_1h`).
    static let events = [
        event("u1", "v1", "US", "music", watch: 100, score: 0.5, liked: true, account: 7, embedding: "[1, 2, 3]", note: "a", at: base + 60_000),
        event("u1", "v2", "US", "music", watch: 200, score: 1.25, liked: false, account: 7, embedding: "[0.5, -1, 2.5]", note: nil, at: base + 120_000),
        event("u2", "v1", "FR", "music", watch: 300, score: 2, liked: false, account: 8, embedding: "[0.1, 0.2, 0.3]", note: "c", at: base + 180_000),
        event("u3", "v3", "DE", "news", watch: 10, score: 0.25, liked: true, account: 9, embedding: "[0, 0, 1]", note: "d", at: base + 240_000),
        event("u1", "v1", "US", "sports", watch: 50, score: -1.5, liked: true, account: 7, embedding: "[3, 2, 1]", note: "e", at: base - 7_200_000),
    ]

    /// One view event line; a nil `note` leaves the optional field out.
    static func event(
        _ user: String, _ video: String, _ country: String, _ category: String, watch: Int, score: Double, liked: Bool,
        account: Int, embedding: String, note: String?, at time: Int64
    ) -> String {
        let noteMember = note.map { ", \"note\": \"\($0)\"" } ?? ""
        return "{\"type\": \"view\", \"ts\": \(time), \"user_id\": \"\(user)\", \"video_id\": \"\(video)\", "
            + "\"country\": \"\(country)\", \"category\": \"\(category)\", \"watch_ms\": \(watch), \"score\": \(score), "
            + "\"liked\": \(liked), \"account_id\": \(account), \"embedding\": \(embedding)\(noteMember)}"
    }

    /// Runs `body` with a gRPC client of a real server over a real engine and RocksDB in a
    /// temp directory, after the standard events are applied, and the server's metrics.
    static func withServer(
        configuration: GRPCFeatureServer.Configuration = GRPCFeatureServer.Configuration(host: "127.0.0.1", port: 0),
        _ body: (_ client: Crema_V1_Features.Client<HTTP2ClientTransport.Posix>, _ engine: Engine, _ metrics: CremaMetrics) async throws -> Void
    ) async throws {
        try await withRunningServer(configuration: configuration) { server, engine, metrics in
            let transport = try HTTP2ClientTransport.Posix.http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: try await server.boundPort()), transportSecurity: .plaintext
            )
            try await withGRPCClient(transport: transport) { client in
                try await body(Crema_V1_Features.Client(wrapping: client), engine, metrics)
            }
        }
    }

    /// Runs `body` while a real server over a real engine and RocksDB in a temp directory
    /// serves (reads on `threadPool`), after the standard events are applied; then cancels it.
    static func withRunningServer(
        configuration: GRPCFeatureServer.Configuration = GRPCFeatureServer.Configuration(host: "127.0.0.1", port: 0),
        threadPool: NIOThreadPool = .singleton,
        _ body: (_ server: GRPCFeatureServer, _ engine: Engine, _ metrics: CremaMetrics) async throws -> Void
    ) async throws {
        try await withTestEngine(specText: specText, now: now) { engine, _ in
            try await submit(events, to: engine)

            let metrics = CremaMetrics(engine: engine)
            let server = GRPCFeatureServer(configuration: configuration, engine: engine, metrics: metrics, threadPool: threadPool)
            let running = Task { try await server.run() }
            do {
                try await body(server, engine, metrics)
            } catch {
                running.cancel()
                _ = await running.result
                throw error
            }
            running.cancel()
            _ = await running.result
        }
    }

    /// Decodes NDJSON lines with the engine's `EventDecoder` and submits them as one batch.
    static func submit(_ lines: [String], to engine: Engine) async throws {
        let decoder = EventDecoder(spec: engine.spec)
        var batch = IngestBatch(producer: nil)
        for (offset, line) in lines.enumerated() {
            let bytes = Array(line.utf8)
            batch.append(try decoder.decode(line: bytes, lineNumber: offset + 1, expectsSequence: false).get(), line: bytes)
        }
        let outcome = try await engine.submit(batch)
        #expect(outcome.accepted == lines.count)
    }

    /// A text id.
    static func text(_ text: String) -> Crema_V1_EntityId {
        var id = Crema_V1_EntityId()
        id.text = text
        return id
    }

    /// A number id.
    static func number(_ number: Int64) -> Crema_V1_EntityId {
        var id = Crema_V1_EntityId()
        id.number = number
        return id
    }

    /// A composite (cohort) id of text parts.
    static func composite(_ parts: [String]) -> Crema_V1_EntityId {
        var id = Crema_V1_EntityId()
        id.composite.parts = parts.map { text in
            var part = Crema_V1_IdPart()
            part.text = text
            return part
        }
        return id
    }

    /// A request for `features` of `ids`.
    static func request(
        _ entity: String, _ ids: [Crema_V1_EntityId], _ features: [String], at: Int64? = nil
    ) -> Crema_V1_GetRequest {
        var request = Crema_V1_GetRequest()
        request.entity = entity
        request.ids = ids
        request.features = features
        if let at { request.at = at }
        return request
    }
}

/// Decodes packed columns back into values, from the bytes alone (the layout the proto
/// documents), checking the buffers' sizes on the way.
enum ColumnDecoder {
    /// The rows of `column`, null where the validity bit is clear.
    static func values(of column: Crema_V1_Column) -> [FeatureValue] {
        let length = Int(column.length)
        let validity = [UInt8](column.validity)
        #expect(validity.isEmpty || validity.count == (length + 7) / 8, "\(column.name): validity size")
        let isPresent = { (row: Int) -> Bool in validity.isEmpty || validity[row / 8] & (1 << (row % 8)) != 0 }
        let packed = [UInt8](column.values)
        let rows: [FeatureValue]
        switch column.dtype {
        case .int64:
            #expect(packed.count == length * 8, "\(column.name): values size")
            rows = (0..<length).map { .int(Int64(bitPattern: littleEndian(packed, at: $0 * 8, width: 8))) }
        case .float64:
            #expect(packed.count == length * 8, "\(column.name): values size")
            rows = (0..<length).map { .float(Double(bitPattern: littleEndian(packed, at: $0 * 8, width: 8))) }
        case .float32:
            #expect(packed.count == length * 4, "\(column.name): values size")
            rows = (0..<length).map { .float(Double(Float(bitPattern: UInt32(littleEndian(packed, at: $0 * 4, width: 4))))) }
        case .bool:
            #expect(packed.count == length, "\(column.name): values size")
            rows = packed.map { .bool($0 != 0) }
        case .string:
            let offsets = offsets(of: column)
            let data = [UInt8](column.data)
            #expect(offsets.last == data.count, "\(column.name): data size")
            rows = (0..<length).map { .string(String(decoding: data[offsets[$0]..<offsets[$0 + 1]], as: UTF8.self)) }
        case .list:
            let offsets = offsets(of: column)
            #expect(column.children.count == 1 && column.children.first?.name == "item", "\(column.name): one child named item")
            let items = Self.values(of: column.children[0])
            #expect(offsets.last == items.count, "\(column.name): child length")
            rows = (0..<length).map { .list(Array(items[offsets[$0]..<offsets[$0 + 1]])) }
        case .struct:
            let children = column.children.map { Self.values(of: $0) }
            for (child, childValues) in zip(column.children, children) {
                #expect(childValues.count == length, "\(column.name).\(child.name): length")
            }
            rows = (0..<length).map { row in
                .object(zip(column.children, children).map { FeatureValue.Member($0.name, $1[row]) })
            }
        default:
            Issue.record("\(column.name): unexpected dtype \(column.dtype)")
            return []
        }
        return rows.enumerated().map { row, value in
            guard !isPresent(row) else { return value }
            #expect(isNullPlaceholder(value), "\(column.name) row \(row): a null row keeps zero bytes or an empty span")
            return .null
        }
    }

    /// The `length + 1` int32 offsets of a STRING or LIST column, checked to start at 0 and grow.
    private static func offsets(of column: Crema_V1_Column) -> [Int] {
        let bytes = [UInt8](column.offsets)
        #expect(bytes.count == (Int(column.length) + 1) * 4, "\(column.name): offsets size")
        let offsets = (0..<bytes.count / 4).map { Int(Int32(bitPattern: UInt32(littleEndian(bytes, at: $0 * 4, width: 4)))) }
        #expect(offsets.first == 0, "\(column.name): the first offset is 0")
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $0 <= $1 }, "\(column.name): offsets grow")
        return offsets
    }

    /// Whether a decoded null row holds what the proto says a null keeps: zero, empty, or nulls.
    private static func isNullPlaceholder(_ value: FeatureValue) -> Bool {
        switch value {
        case .int(let number): return number == 0
        case .float(let number): return number.bitPattern == 0
        case .bool(let flag): return !flag
        case .string(let text): return text.isEmpty
        case .list(let items): return items.isEmpty
        case .object(let members): return members.allSatisfy { $0.value == .null }
        default: return false
        }
    }

    /// The unsigned little-endian number of `width` bytes at `offset`.
    private static func littleEndian(_ bytes: [UInt8], at offset: Int, width: Int) -> UInt64 {
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
    }

    /// A value as a column of `column`'s shape decodes it: a vector as a list of floats, a
    /// histogram as a list of `{key, count}` objects, object members in the column's order.
    static func normalized(_ value: FeatureValue, as column: Crema_V1_Column) -> FeatureValue {
        switch (column.dtype, value) {
        case (.list, .vector(let floats)):
            return .list(floats.map { .float(Double($0)) })
        case (.list, .object(let entries)):
            let entry = column.children[0]
            return .list(entries.map { member in
                .object([
                    FeatureValue.Member(entry.children[0].name, .string(member.key)),
                    FeatureValue.Member(entry.children[1].name, normalized(member.value, as: entry.children[1])),
                ])
            })
        case (.list, .list(let items)):
            return .list(items.map { normalized($0, as: column.children[0]) })
        case (.struct, .object(let members)):
            return .object(column.children.map { child in
                FeatureValue.Member(child.name, normalized(members.first { $0.key == child.name }?.value ?? .null, as: child))
            })
        default:
            return value
        }
    }
}

/// Expects every column of `response` to decode to what `FeatureService.get` reads for
/// `request` on the same engine, value by value.
func expectColumnsMatch(_ response: Crema_V1_GetResponse, _ request: FeatureRequest, engine: Engine) throws {
    let expected = try FeatureService(engine: engine).get(request)
    #expect(response.columns.map(\.name) == request.features)
    #expect(response.columns.count == expected.columns.count)
    for (column, reference) in zip(response.columns, expected.columns) {
        #expect(column.length == Int64(request.ids.count), "\(column.name): one row per id")
        let decoded = ColumnDecoder.values(of: column)
        let wanted = reference.column.values.map { ColumnDecoder.normalized($0, as: column) }
        #expect(decoded.count == wanted.count)
        for (row, (got, want)) in zip(decoded, wanted).enumerated() {
            #expect(got == want, "\(column.name) row \(row)")
        }
    }
    #expect(response.broadcast.map(\.name) == request.broadcast?.features ?? [])
    for (column, reference) in zip(response.broadcast, expected.broadcast) {
        #expect(column.length == 1, "\(column.name): one row")
        #expect(ColumnDecoder.values(of: column) == [ColumnDecoder.normalized(reference.value, as: column)], "\(column.name)")
    }
}

@Suite("gRPC Features over a real engine")
struct GRPCFeaturesTests {
    @Test("every video column decodes to what FeatureService reads; never-seen ids are null in the bitmap")
    func videoColumns() async throws {
        try await GRPCFixture.withServer { client, engine, _ in
            let ids = ["v1", "v2", "v404", "v3"]
            let response = try await client.get(GRPCFixture.request("video", ids.map(GRPCFixture.text), GRPCFixture.videoFeatures))
            #expect(response.ids == ids.map(GRPCFixture.text))
            #expect(response.broadcast.isEmpty)
            try expectColumnsMatch(response, FeatureRequest(entity: "video", ids: ids.map { [.string($0)] }, features: GRPCFixture.videoFeatures), engine: engine)

            let columns = Dictionary(uniqueKeysWithValues: response.columns.map { ($0.name, $0) })
            let views = try #require(columns["video_stats.views_1d"])
            #expect(views.dtype == .int64)
            #expect(views.validity == Data([0b1011]))
            #expect(ColumnDecoder.values(of: views) == [.int(3), .int(1), .null, .int(1)])
            #expect(ColumnDecoder.values(of: try #require(columns["video_stats.views_1h"])) == [.int(2), .int(1), .null, .int(1)])
            #expect(ColumnDecoder.values(of: try #require(columns["video_stats.watch_time_1d"])) == [.int(450), .int(200), .null, .int(10)])
            let scores = try #require(columns["video_stats.score_total_1d"])
            #expect(scores.dtype == .float64)
            #expect(ColumnDecoder.values(of: scores) == [.float(1), .float(1.25), .null, .float(0.25)])
            #expect(ColumnDecoder.values(of: try #require(columns["video_stats.mean_watch_1d"])) == [.float(150), .float(200), .null, .float(10)])

            let countries = try #require(columns["video_stats.countries_1d"])
            #expect(countries.dtype == .list)
            #expect(countries.children.first?.dtype == .struct)
            #expect(countries.children.first?.children.map(\.name) == ["value", "count"])
            #expect(countries.children.first?.children.map(\.dtype) == [.string, .int64])
            #expect(ColumnDecoder.values(of: countries).first == .list([
                .object([.init("value", .string("US")), .init("count", .int(2))]),
                .object([.init("value", .string("FR")), .init("count", .int(1))]),
            ]))
            let categories = try #require(columns["video_stats.categories_1d"])
            #expect(categories.children.first?.children.map(\.name) == ["key", "count"])
            #expect(ColumnDecoder.values(of: categories)[0] == .list([
                .object([.init("key", .string("music")), .init("count", .int(2))]),
                .object([.init("key", .string("sports")), .init("count", .int(1))]),
            ]))
            let liked = try #require(columns["video_stats.liked_1d"])
            #expect(liked.dtype == .bool)
            #expect(ColumnDecoder.values(of: liked) == [.bool(false), .bool(false), .null, .bool(true)])
            let embedding = try #require(columns["video_stats.embedding_1d"])
            #expect(embedding.dtype == .list)
            #expect(embedding.children.first?.dtype == .float32)
            #expect(ColumnDecoder.values(of: embedding)[1] == .list([.float(0.5), .float(-1), .float(2.5)]))
            let quantiles = try #require(columns["video_stats.watch_quantiles_1d"])
            #expect(quantiles.children.first?.dtype == .float64)
            #expect(columns["video_stats.trending"]?.dtype == .float64)
        }
    }

    @Test("broadcast columns of length 1: last_n, sequence with a null member, vector last; at moves the windows")
    func broadcastAndAt() async throws {
        try await GRPCFixture.withServer { client, engine, _ in
            var request = GRPCFixture.request("video", [GRPCFixture.text("v1"), GRPCFixture.text("v1")], GRPCFixture.videoFeatures, at: GRPCFixture.base - 1)
            request.broadcast.entity = "user"
            request.broadcast.id = GRPCFixture.text("u1")
            request.broadcast.features = GRPCFixture.userFeatures
            let response = try await client.get(request)
            let expected = FeatureRequest(
                entity: "video", ids: [[.string("v1")], [.string("v1")]], features: GRPCFixture.videoFeatures,
                broadcast: FeatureRequest.Broadcast(entity: "user", id: [.string("u1")], features: GRPCFixture.userFeatures),
                at: GRPCFixture.base - 1
            )
            try expectColumnsMatch(response, expected, engine: engine)

            #expect(ColumnDecoder.values(of: response.columns[1]) == [.int(1), .int(1)])
            #expect(response.columns[0].validity.isEmpty)
            let recentVideos = response.broadcast[0]
            #expect(recentVideos.dtype == .list && recentVideos.children.first?.dtype == .string)
            #expect(ColumnDecoder.values(of: recentVideos) == [.list([.string("v2"), .string("v1"), .string("v1")])])
            let recentViews = response.broadcast[1]
            #expect(recentViews.children.first?.children.map(\.name) == ["video_id", "watch_ms", "note", "ts"])
            #expect(ColumnDecoder.values(of: recentViews) == [.list([
                .object([.init("video_id", .string("v2")), .init("watch_ms", .int(200)), .init("note", .null), .init("ts", .int(GRPCFixture.base + 120_000))]),
                .object([.init("video_id", .string("v1")), .init("watch_ms", .int(100)), .init("note", .string("a")), .init("ts", .int(GRPCFixture.base + 60_000))]),
            ])])
            #expect(ColumnDecoder.values(of: response.broadcast[2]) == [.list([.float(0.5), .float(-1), .float(2.5)])])

            var missingUser = request
            missingUser.broadcast.id = GRPCFixture.text("u404")
            let absent = try await client.get(missingUser)
            #expect(absent.broadcast.map(\.validity) == [Data([0]), Data([0]), Data([0])])
        }
    }

    @Test("cohort ids as composites, int keys as numbers or text, duplicates kept in order")
    func cohortAndIntKeys() async throws {
        try await GRPCFixture.withServer { client, engine, _ in
            let cohorts = [["US", "music"], ["FR", "music"], ["US", "sports"], ["DE", "music"], ["US", "music"]]
            let cohortResponse = try await client.get(GRPCFixture.request("country_category", cohorts.map(GRPCFixture.composite), ["cohort_stats.views_1d"]))
            #expect(cohortResponse.ids == cohorts.map(GRPCFixture.composite))
            #expect(ColumnDecoder.values(of: cohortResponse.columns[0]) == [.int(2), .int(1), .int(1), .null, .int(2)])
            try expectColumnsMatch(
                cohortResponse,
                FeatureRequest(entity: "country_category", ids: cohorts.map { $0.map { .string($0) } }, features: ["cohort_stats.views_1d"]),
                engine: engine
            )

            let accounts = [GRPCFixture.number(7), GRPCFixture.text("7"), GRPCFixture.number(8), GRPCFixture.number(10)]
            let accountResponse = try await client.get(GRPCFixture.request("account", accounts, ["account_stats.total_watch"]))
            #expect(accountResponse.ids == accounts)
            #expect(ColumnDecoder.values(of: accountResponse.columns[0]) == [.int(350), .int(350), .int(300), .null])
            try expectColumnsMatch(
                accountResponse,
                FeatureRequest(entity: "account", ids: [[.int(7)], [.string("7")], [.int(8)], [.int(10)]], features: ["account_stats.total_watch"]),
                engine: engine
            )
        }
    }

    @Test("packed text_ids and number_ids read what the same ids as messages read, and echo nothing")
    func packedIDs() async throws {
        try await GRPCFixture.withServer { client, _, _ in
            let videos = ["v1", "v404", "v3", "v1"]
            var packed = GRPCFixture.request("video", [], GRPCFixture.videoFeatures)
            packed.textIds = videos
            let packedResponse = try await client.get(packed)
            let messageResponse = try await client.get(GRPCFixture.request("video", videos.map(GRPCFixture.text), GRPCFixture.videoFeatures))
            #expect(packedResponse.ids.isEmpty)
            #expect(packedResponse.columns == messageResponse.columns)

            var accounts = GRPCFixture.request("account", [], ["account_stats.total_watch"])
            accounts.numberIds = [7, 8, 10]
            #expect(ColumnDecoder.values(of: try await client.get(accounts).columns[0]) == [.int(350), .int(300), .null])

            var both = packed
            both.numberIds = [7]
            await #expect {
                _ = try await client.get(both)
            } throws: { error in
                (error as? RPCError)?.code == .invalidArgument && (error as? RPCError)?.message.contains("text_ids") == true
            }
        }
    }

    @Test("each call is counted by status code and timed in /metrics, with its number of ids")
    func metricsOfCalls() async throws {
        try await GRPCFixture.withServer { client, _, metrics in
            _ = try await client.get(GRPCFixture.request("video", [GRPCFixture.text("v1"), GRPCFixture.text("v2")], ["video_stats.views_1d"]))
            await #expect(throws: RPCError.self) {
                _ = try await client.get(GRPCFixture.request("planet", [GRPCFixture.text("p1")], []))
            }
            let text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(text.contains(#"crema_grpc_requests_total{method="Features/Get",code="ok"} 1"#), "\(text)")
            #expect(text.contains(#"crema_grpc_requests_total{method="Features/Get",code="invalidArgument"} 1"#))
            #expect(text.contains(#"crema_grpc_request_duration_seconds_count{method="Features/Get"} 2"#))
            #expect(text.contains(#"crema_read_ids_sum{route="grpc Features/Get"} 3"#))
        }
    }

    @Test("10,000 ids: bitmaps over many bytes, every column matches")
    func manyIDs() async throws {
        try await GRPCFixture.withServer { client, engine, _ in
            let ids = (0..<10_000).map { "v\($0 % 7)" }
            let response = try await client.get(GRPCFixture.request("video", ids.map(GRPCFixture.text), GRPCFixture.videoFeatures))
            #expect(response.columns.allSatisfy { $0.validity.count == 1_250 })
            try expectColumnsMatch(response, FeatureRequest(entity: "video", ids: ids.map { [.string($0)] }, features: GRPCFixture.videoFeatures), engine: engine)
        }
    }
}
