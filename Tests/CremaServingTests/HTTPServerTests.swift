import CremaEngine
import CremaSpec
import CremaStorage
import Foundation
import Testing

@testable import CremaServing

/// A spec with string, int and composite keys, windows, top_k, last_n and lifetime sums.
let specText = """
events:
  view:
    time: ts
    fields: { user_id: string, video_id: string, country: string, category: string, watch_ms: int, account_id: int }
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
      countries: { op: top_k, field: country, k: 2, windows: [1d] }
  user_history:
    entity: user
    from: view
    aggregates:
      recent_videos: { op: last_n, field: video_id, n: 3 }
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

/// An hour boundary; the test clock reads half an hour later.
let base: Int64 = 1_699_999_200_000
let now = base + 1_800_000

/// One view event line.
func view(_ user: String, _ video: String, _ country: String, _ category: String, watch: Int, account: Int, at time: Int64, seq: Int? = nil) -> String {
    let sequence = seq.map { "\"seq\": \($0), " } ?? ""
    return "{\"type\": \"view\", \(sequence)\"ts\": \(time), \"user_id\": \"\(user)\", \"video_id\": \"\(video)\", "
        + "\"country\": \"\(country)\", \"category\": \"\(category)\", \"watch_ms\": \(watch), \"account_id\": \(account)}"
}

/// The events every read test starts from, with a hello, a bad line and an empty line.
let eventsBody = [
    "{\"producer\": \"p1\"}",
    view("u1", "v1", "US", "music", watch: 100, account: 7, at: base + 60_000, seq: 1),
    view("u1", "v2", "US", "music", watch: 200, account: 7, at: base + 120_000, seq: 2),
    view("u2", "v1", "FR", "music", watch: 300, account: 8, at: base + 180_000, seq: 3),
    "{\"type\": \"view\", \"seq\": 4, \"ts\": 1, \"user_id\": \"u3\", \"video_id\": \"v3\", \"country\": \"US\", \"category\": \"x\", \"watch_ms\": \"abc\", \"account_id\": 1}",
    "",
    view("u1", "v1", "US", "sports", watch: 50, account: 7, at: base - 7_200_000, seq: 5),
].joined(separator: "\n") + "\n"

/// Runs `body` against a real server over a real engine and RocksDB in a temp directory.
func withServer(_ body: (_ port: Int, _ engine: Engine) async throws -> Void) async throws {
    try await withTestEngine(specText: specText, now: now) { engine, database in
        let metrics = CremaMetrics(engine: engine, database: database)
        let server = HTTPServer(configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0), engine: engine, metrics: metrics)
        let running = Task { try await server.run() }
        do {
            let port = try await server.boundPort()
            try await body(port, engine)
        } catch {
            running.cancel()
            _ = await running.result
            throw error
        }
        running.cancel()
        _ = await running.result
    }
}

/// Posts the standard events and checks their summary.
func ingestStandardEvents(port: Int) async throws {
    let response = try await HTTPTestClient.request(port: port, "POST", "/v1/events", body: eventsBody)
    #expect(response.status == 200)
    #expect(response.text.hasPrefix("{\"ack\":6,\"accepted\":4,\"rejected\":1,\"duplicates\":0,\"late\":0,\"errors\":[{\"line\":4,\"error\":"))
    #expect(response.text.contains("watch_ms"))
}

/// Posts a read and returns the response.
func read(_ port: Int, _ json: String) async throws -> TestResponse {
    try await HTTPTestClient.request(port: port, "POST", "/v1/features", body: json)
}

@Suite("HTTP API over a real engine")
struct HTTPServerTests {
    @Test("events are ingested exactly once per producer seq")
    func eventsExactlyOnce() async throws {
        try await withServer { port, _ in
            try await ingestStandardEvents(port: port)
            let again = try await HTTPTestClient.request(port: port, "POST", "/v1/events", body: eventsBody)
            #expect(again.text.hasPrefix("{\"ack\":6,\"accepted\":0,\"rejected\":1,\"duplicates\":4,\"late\":0,"))
            let empty = try await HTTPTestClient.request(port: port, "POST", "/v1/events", body: "")
            #expect(empty.text == "{\"ack\":0,\"accepted\":0,\"rejected\":0,\"duplicates\":0,\"late\":0,\"errors\":[]}")
            let missingSequence = "{\"producer\": \"p2\"}\n" + view("u9", "v9", "US", "music", watch: 1, account: 1, at: base)
            let refused = try await HTTPTestClient.request(port: port, "POST", "/v1/events", body: missingSequence)
            #expect(refused.text.hasPrefix("{\"ack\":1,\"accepted\":0,\"rejected\":1,"))
            #expect(refused.text.contains("seq"))
            let badHello = try await HTTPTestClient.request(port: port, "POST", "/v1/events", body: "{\"producer\": 5}\n")
            #expect(badHello.status == 400)
            #expect(badHello.text.contains("invalid hello"))
        }
    }

    @Test("windowed counts, sums and top_k of string ids, never-seen ids null, ids echoed")
    func windowedFeatures() async throws {
        try await withServer { port, _ in
            try await ingestStandardEvents(port: port)
            let response = try await read(port, """
                {"entity": "video", "ids": ["v1", "v2",  "v404"], "features": ["video_stats.views_1h", "video_stats.views_1d",
                 "video_stats.watch_time_1d", "video_stats.countries_1d"]}
                """)
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.text == """
                {"ids":["v1", "v2",  "v404"],"features":{"video_stats.views_1h":[2,1,null],"video_stats.views_1d":[3,1,null],\
                "video_stats.watch_time_1d":[450,200,null],\
                "video_stats.countries_1d":[[{"value":"US","count":2},{"value":"FR","count":1}],[{"value":"US","count":1}],null]}}
                """)
        }
    }

    @Test("at, broadcast, last_n, cohort keys and int keys as numbers and strings")
    func atBroadcastCohortsAndIntKeys() async throws {
        try await withServer { port, _ in
            try await ingestStandardEvents(port: port)
            let past = try await read(port, """
                {"entity": "video", "ids": ["v1"], "features": ["video_stats.views_1h", "video_stats.views_1d", "video_stats.watch_time_1d"], "at": \(base - 1),
                 "broadcast": {"entity": "user", "id": "u1", "features": ["user_history.recent_videos"]}}
                """)
            #expect(past.text == """
                {"ids":["v1"],"features":{"video_stats.views_1h":[0],"video_stats.views_1d":[1],"video_stats.watch_time_1d":[50]},\
                "broadcast":{"user_history.recent_videos":["v2","v1","v1"]}}
                """)
            let cohorts = try await read(port, """
                {"entity": "country_category", "ids": [["US", "music"], ["FR","music"], ["US", "sports"], ["DE", "music"]], "features": ["cohort_stats.views_1d"]}
                """)
            #expect(cohorts.text == """
                {"ids":[["US", "music"], ["FR","music"], ["US", "sports"], ["DE", "music"]],"features":{"cohort_stats.views_1d":[2,1,1,null]}}
                """)
            let accounts = try await read(port, """
                {"entity": "account", "ids": [7, "7", 8, 9], "features": ["account_stats.total_watch"]}
                """)
            #expect(accounts.text == "{\"ids\":[7, \"7\", 8, 9],\"features\":{\"account_stats.total_watch\":[350,350,300,null]}}")
        }
    }

    @Test("GET /v1/features/{entity}/{id}: all features, cohort ids URL-encoded, missing entities null")
    func entityFeatures() async throws {
        try await withServer { port, _ in
            try await ingestStandardEvents(port: port)
            let user = try await HTTPTestClient.request(port: port, "GET", "/v1/features/user/u1")
            #expect(user.text == "{\"entity\":\"user\",\"id\":\"u1\",\"features\":{\"user_history.recent_videos\":[\"v2\",\"v1\",\"v1\"]}}")
            let cohort = try await HTTPTestClient.request(port: port, "GET", "/v1/features/country_category/%5B%22US%22%2C%22music%22%5D")
            #expect(cohort.text == "{\"entity\":\"country_category\",\"id\":[\"US\",\"music\"],\"features\":{\"cohort_stats.views_1d\":2}}")
            let account = try await HTTPTestClient.request(port: port, "GET", "/v1/features/account/8")
            #expect(account.text == "{\"entity\":\"account\",\"id\":\"8\",\"features\":{\"account_stats.total_watch\":300}}")
            let missing = try await HTTPTestClient.request(port: port, "GET", "/v1/features/video/nope")
            #expect(missing.status == 200)
            #expect(missing.text.contains("\"video_stats.views_1h\":null"))
            let unknown = try await HTTPTestClient.request(port: port, "GET", "/v1/features/planet/p1")
            #expect(unknown.status == 400)
            #expect(unknown.text.contains("planet"))
        }
    }

    @Test("bad requests are 400s naming the problem", arguments: [
        ("{", "invalid JSON"),
        ("[1]", "JSON object"),
        ("", "empty"),
        ("{\"ids\": [\"v1\"], \"features\": [\"video_stats.views_1d\"]}", "entity"),
        ("{\"entity\": \"video\", \"features\": [\"video_stats.views_1d\"]}", "ids"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"]}", "features"),
        ("{\"entity\": 3, \"ids\": [\"v1\"], \"features\": []}", "entity"),
        ("{\"entity\": \"video\", \"ids\": \"v1\", \"features\": []}", "ids"),
        ("{\"entity\": \"video\", \"ids\": [{\"a\": 1}], \"features\": []}", "ids[0]"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\", 1.5], \"features\": []}", "ids[1]"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [\"video_stats.nope\"]}", "video_stats.nope"),
        ("{\"entity\": \"planet\", \"ids\": [\"v1\"], \"features\": []}", "planet"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [\"user_history.recent_videos\"]}", "user_history.recent_videos"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"at\": 1.5}", "at"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"at\": \"now\"}", "at"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"colour\": 1}", "colour"),
        ("{\"entity\": \"country_category\", \"ids\": [[\"US\"]], \"features\": [\"cohort_stats.views_1d\"]}", "2 parts"),
        ("{\"entity\": \"account\", \"ids\": [\"seven\"], \"features\": [\"account_stats.total_watch\"]}", "seven"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"broadcast\": {\"entity\": \"user\", \"features\": []}}", "broadcast"),
    ])
    func badRequests(body: String, named: String) async throws {
        try await withServer { port, _ in
            let response = try await read(port, body)
            #expect(response.status == 400)
            #expect(response.text.hasPrefix("{\"error\":"))
            #expect(response.text.contains(named))
        }
    }

    @Test("too many ids is a 400")
    func tooManyIDs() async throws {
        try await withServer { port, _ in
            let ids = (0...FeatureService.maximumIDs).map { "\"v\($0)\"" }.joined(separator: ",")
            let response = try await read(port, "{\"entity\": \"video\", \"ids\": [\(ids)], \"features\": [\"video_stats.views_1d\"]}")
            #expect(response.status == 400)
            #expect(response.text.contains("too many ids"))
        }
    }

    @Test("404, 405, health, specs, metrics and keep-alive")
    func otherRoutes() async throws {
        try await withServer { port, _ in
            let responses = try await HTTPTestClient.exchange(port: port, [
                HTTPTestClient.rawRequest("GET", "/healthz"),
                HTTPTestClient.rawRequest("GET", "/nope"),
                HTTPTestClient.rawRequest("GET", "/v1/events"),
                HTTPTestClient.rawRequest("POST", "/healthz", body: []),
            ])
            #expect(responses.map(\.status) == [200, 404, 405, 405])
            #expect(responses[0].text == "{\"status\":\"ok\"}")
            #expect(responses[1].text.contains("/nope"))
            #expect(responses[2].headers["allow"] == "POST")

            let specs = try await HTTPTestClient.request(port: port, "GET", "/v1/specs")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(specs.body)) as? [String: Any])
            let events = try #require(document["events"] as? [[String: Any]])
            #expect(events.first?["name"] as? String == "view")
            #expect(events.first?["time"] as? String == "ts")
            let entities = try #require(document["entities"] as? [[String: Any]])
            #expect(entities.first { $0["name"] as? String == "country_category" }?["key"] as? [String] == ["country", "category"])
            let groups = try #require(document["groups"] as? [[String: Any]])
            let video = try #require(groups.first { $0["name"] as? String == "video_stats" })
            #expect(video["entity"] as? String == "video")
            #expect(video["event"] as? String == "view")
            let features = try #require(video["features"] as? [[String: Any]])
            #expect(features.first?["name"] as? String == "video_stats.views_1h")
            #expect(features.first?["op"] as? String == "count")
            #expect(features.first?["window"] as? String == "1h")
            #expect(features.first?["hop"] as? String == "5m")
            let lifetime = try #require((groups.last?["features"] as? [[String: Any]])?.first)
            #expect(lifetime["window"] is NSNull)

            try await ingestStandardEvents(port: port)
            _ = try await read(port, "{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [\"video_stats.views_1d\"]}")
            let metrics = try await HTTPTestClient.request(port: port, "GET", "/metrics")
            #expect(metrics.status == 200)
            for name in [
                "crema_http_requests_total", "crema_http_request_duration_seconds_bucket", "crema_read_ids_bucket",
                "crema_ingest_events_total{outcome=\"accepted\"} 4", "crema_ingest_events_total{outcome=\"rejected\"} 1",
                "crema_ingest_acks_total 1", "crema_engine_commits_total", "crema_engine_checkpoints_total", "crema_engine_rows_written_total", "crema_engine_checkpoint_seconds_total", "crema_engine_rows_expired_total 0", "crema_engine_rows_in_memory", "crema_engine_row_memory_estimate_bytes",
                "crema_rocksdb_estimate_num_keys", "crema_rocksdb_memtable_bytes",
            ] {
                #expect(metrics.text.contains(name), "missing \(name)")
            }
        }
    }

    @Test("a body over the limit is a 413")
    func bodyTooLarge() async throws {
        try await withServer { port, _ in
            let response = try await HTTPTestClient.exchange(port: port, [
                Array("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: \(128 << 20)\r\n\r\n".utf8)
            ])
            #expect(response.first?.status == 413)
        }
    }
}
