import CremaEngine
import Foundation
import GRPCCore
import Testing

@testable import CremaServing

/// A valid read of the standard HTTP spec, sent after each bad one.
private let validRead = HTTPTestClient.rawRequest(
    "POST", "/v1/features", body: Array("{\"entity\": \"video\", \"ids\": [\"v1\", \"v404\"], \"features\": [\"video_stats.views_1d\"]}".utf8)
)

/// Sends `body` to `POST /v1/features` and then a valid read on the same keep-alive
/// connection: expects a 400 naming `named`, then the right answer to the valid read.
private func expectRefused(_ body: [UInt8], naming named: String, port: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let responses = try await HTTPTestClient.exchange(port: port, [HTTPTestClient.rawRequest("POST", "/v1/features", body: body), validRead])
    #expect(responses.map(\.status) == [400, 200], sourceLocation: sourceLocation)
    #expect(responses[0].text.hasPrefix("{\"error\":"), sourceLocation: sourceLocation)
    #expect(responses[0].text.contains(named), "\(responses[0].text) does not name \(named)", sourceLocation: sourceLocation)
    #expect(responses[1].text == "{\"ids\":[\"v1\", \"v404\"],\"features\":{\"video_stats.views_1d\":[3,null]}}", sourceLocation: sourceLocation)
}

@Suite("Bad read requests over HTTP and gRPC")
struct BadReadRequestTests {
    @Test("HTTP: malformed JSON, ids of the wrong shape, bad broadcasts: a 400 naming the problem, then the connection still serves", arguments: [
        // Malformed JSON.
        ("{\"entity\": \"video\", \"ids\": [\"v1\"", "invalid JSON"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\",], \"features\": []}", "ids[1]"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": []} x", "unexpected data after the object"),
        ("{\"entity\": \"video\", \"ids\": [\"v1], \"features\": []}", "invalid JSON"),
        ("{\"entity\": \"video\" \"ids\": [\"v1\"], \"features\": []}", "invalid JSON"),
        ("null", "JSON object"),
        ("{\"entity\": \"video\", \"entity\": \"user\", \"ids\": [\"v1\"], \"features\": []}", "duplicate key"),
        // Members of the wrong type.
        ("{\"entity\": \"video\", \"ids\": [true], \"features\": []}", "ids[0]"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\", null], \"features\": []}", "ids[1]"),
        ("{\"entity\": \"video\", \"ids\": null, \"features\": []}", "ids"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [\"video_stats.views_1d\", 7]}", "features[1]"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": \"video_stats.views_1d\"}", "features"),
        ("{\"entity\": \"account\", \"ids\": [99999999999999999999], \"features\": [\"account_stats.total_watch\"]}", "ids[0]"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"at\": 99999999999999999999}", "at"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"at\": null}", "at"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"at\": 1e3}", "at"),
        // Ids of the wrong shape for the entity's key.
        ("{\"entity\": \"country_category\", \"ids\": [[]], \"features\": [\"cohort_stats.views_1d\"]}", "ids[0]"),
        ("{\"entity\": \"country_category\", \"ids\": [[\"US\", [\"music\"]]], \"features\": [\"cohort_stats.views_1d\"]}", "ids[0][1]"),
        ("{\"entity\": \"country_category\", \"ids\": [[\"US\", {\"c\": 1}]], \"features\": [\"cohort_stats.views_1d\"]}", "ids[0][1]"),
        ("{\"entity\": \"country_category\", \"ids\": [[\"US\", \"music\", \"x\"]], \"features\": [\"cohort_stats.views_1d\"]}", "2 parts"),
        ("{\"entity\": \"country_category\", \"ids\": [\"US\"], \"features\": [\"cohort_stats.views_1d\"]}", "2 parts"),
        ("{\"entity\": \"video\", \"ids\": [[\"v1\", \"v2\"]], \"features\": [\"video_stats.views_1d\"]}", "1 part"),
        ("{\"entity\": \"account\", \"ids\": [7, \"7.5\"], \"features\": [\"account_stats.total_watch\"]}", "7.5"),
        // Bad broadcasts.
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"broadcast\": {\"entity\": \"user\", \"id\": \"u1\", \"features\": [\"video_stats.views_1d\"]}}", "video_stats.views_1d"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"broadcast\": {\"entity\": \"planet\", \"id\": \"p1\", \"features\": []}}", "planet"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"broadcast\": {\"entity\": \"country_category\", \"id\": \"US\", \"features\": [\"cohort_stats.views_1d\"]}}", "2 parts"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"broadcast\": {\"entity\": \"user\", \"id\": {\"u\": 1}, \"features\": []}}", "broadcast.id"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"broadcast\": {\"entity\": \"user\", \"id\": \"u1\", \"features\": [], \"colour\": 1}}", "colour"),
        ("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [], \"broadcast\": [\"user\"]}", "broadcast"),
    ])
    func httpBadRequests(body: String, named: String) async throws {
        try await withServer { port, _ in
            try await ingestStandardEvents(port: port)
            try await expectRefused(Array(body.utf8), naming: named, port: port)
        }
    }

    @Test("HTTP: a body that is not UTF-8 is a 400 naming the byte")
    func httpInvalidUTF8() async throws {
        try await withServer { port, _ in
            try await ingestStandardEvents(port: port)
            let body = Array("{\"entity\": \"video\", \"ids\": [\"v".utf8) + [0xFF, 0xFE] + Array("\"], \"features\": []}".utf8)
            try await expectRefused(body, naming: "invalid UTF-8 at byte 31", port: port)
        }
    }

    @Test("HTTP: an id of the wrong shape is named by its position among many ids, and refused also when no feature is asked for", arguments: [
        ("[\"cohort_stats.views_1d\"]", "ids[2]"),
        ("[]", "2 parts"),
    ])
    func httpWrongShapeAmongMany(features: String, named: String) async throws {
        try await withServer { port, _ in
            try await ingestStandardEvents(port: port)
            let cohorts = "[\"US\", \"music\"], [\"FR\", \"music\"], [\"US\"]"
            let body = "{\"entity\": \"country_category\", \"ids\": [\(cohorts)], \"features\": \(features)}"
            try await expectRefused(Array(body.utf8), naming: named, port: port)
        }
    }

    @Test("exactly maximumIDs ids is served over HTTP and gRPC; one more is refused over both, and the servers go on")
    func idLimitBoundary() async throws {
        try await ServingStack.with(specText: specText, now: now) { stack in
            let lines = [
                view("u1", "v1", "US", "music", watch: 100, account: 7, at: base + 60_000),
                view("u2", "v1", "FR", "music", watch: 300, account: 8, at: base + 180_000),
            ]
            #expect(try await stack.send(lines: lines).totals.accepted == 2)
            let maximum = FeatureService.maximumIDs
            let ids = (0..<maximum).map { $0 % 3 == 0 ? "v1" : "v\($0 % 1_000 + 2)" }

            let body = "{\"entity\": \"video\", \"ids\": \(JSONText.strings(ids)), \"features\": [\"video_stats.views_1d\"]}"
            let response = try await stack.postFeatures(body)
            #expect(response.status == 200)
            let column = try #require((try JSONText.object(response)["features"] as? [String: [Any]])?["video_stats.views_1d"])
            #expect(column.count == maximum)
            #expect(zip(ids, column).allSatisfy { id, value in id == "v1" ? (value as? Int) == 2 : value is NSNull })

            let reply = try await stack.grpc.get(GRPCFixture.request("video", ids.map(GRPCFixture.text), ["video_stats.views_1d"]))
            let values = ColumnDecoder.values(of: try #require(reply.columns.first))
            #expect(values.count == maximum)
            #expect(zip(ids, values).allSatisfy { id, value in value == (id == "v1" ? .int(2) : .null) })

            let tooMany = "{\"entity\": \"video\", \"ids\": \(JSONText.strings(ids + ["v1"])), \"features\": [\"video_stats.views_1d\"]}"
            let refused = try await stack.postFeatures(tooMany)
            #expect(refused.status == 400)
            #expect(refused.text.contains("too many ids: \(maximum + 1)"))
            let error = await #expect(throws: RPCError.self) {
                try await stack.grpc.get(GRPCFixture.request("video", (ids + ["v1"]).map(GRPCFixture.text), ["video_stats.views_1d"]))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("too many ids") == true)

            let after = try await stack.postFeatures("{\"entity\": \"video\", \"ids\": [\"v1\"], \"features\": [\"video_stats.views_1d\"]}")
            #expect(after.text == "{\"ids\":[\"v1\"],\"features\":{\"video_stats.views_1d\":[2]}}")
            let afterGRPC = try await stack.grpc.get(GRPCFixture.request("video", [GRPCFixture.text("v1")], ["video_stats.views_1d"]))
            #expect(afterGRPC.columns.first.map { ColumnDecoder.values(of: $0) } == [.int(2)])
        }
    }

    @Test("gRPC: bad entities, features, ids and broadcasts are INVALID_ARGUMENT naming the problem, then the server still serves", arguments: [
        ("unknown entity", "planet"),
        ("unknown feature", "video_stats.nope"),
        ("feature of another entity", "user_history.recent_videos"),
        ("id with no kind", "ids[1]"),
        ("composite part with no kind", "ids[0].composite.parts[1]"),
        ("cohort id of the wrong length", "2 parts"),
        ("int key that is not a number", "seven"),
        ("broadcast without an id", "broadcast.id"),
        ("broadcast feature of another entity", "video_stats.views_1d"),
        ("too many ids", "too many ids"),
        ("cohort id with too many parts", "2 parts"),
        ("text id for a cohort", "2 parts"),
        ("composite id for a single key", "1 part"),
        ("broadcast of an unknown entity", "planet"),
        ("broadcast id of the wrong shape", "1 part"),
        ("broadcast composite part with no kind", "broadcast.id.composite.parts[0]"),
        ("unknown broadcast feature", "user_history.nope"),
        ("int key that overflows", "99999999999999999999"),
    ])
    func grpcBadRequests(problem: String, named: String) async throws {
        try await GRPCFixture.withServer { client, engine, _ in
            var request = GRPCFixture.request("video", [GRPCFixture.text("v1")], ["video_stats.views_1d"])
            switch problem {
            case "unknown entity":
                request.entity = "planet"
            case "unknown feature":
                request.features = ["video_stats.nope"]
            case "feature of another entity":
                request.features = ["user_history.recent_videos"]
            case "id with no kind":
                request.ids = [GRPCFixture.text("v1"), Crema_V1_EntityId()]
            case "composite part with no kind":
                request = GRPCFixture.request("country_category", [GRPCFixture.composite(["US", "music"])], ["cohort_stats.views_1d"])
                request.ids[0].composite.parts[1] = Crema_V1_IdPart()
            case "cohort id of the wrong length":
                request = GRPCFixture.request("country_category", [GRPCFixture.composite(["US"])], ["cohort_stats.views_1d"])
            case "int key that is not a number":
                request = GRPCFixture.request("account", [GRPCFixture.text("seven")], ["account_stats.total_watch"])
            case "broadcast without an id":
                request.broadcast.entity = "user"
                request.broadcast.features = ["user_history.recent_videos"]
            case "broadcast feature of another entity":
                request.broadcast.entity = "user"
                request.broadcast.id = GRPCFixture.text("u1")
                request.broadcast.features = ["video_stats.views_1d"]
            case "too many ids":
                request.ids = (0...FeatureService.maximumIDs).map { GRPCFixture.text("v\($0)") }
            case "cohort id with too many parts":
                request = GRPCFixture.request("country_category", [GRPCFixture.composite(["US", "music", "x"])], ["cohort_stats.views_1d"])
            case "text id for a cohort":
                request = GRPCFixture.request("country_category", [GRPCFixture.text("US")], ["cohort_stats.views_1d"])
            case "composite id for a single key":
                request.ids = [GRPCFixture.text("v1"), GRPCFixture.composite(["v1", "v2"])]
            case "broadcast of an unknown entity":
                request.broadcast.entity = "planet"
                request.broadcast.id = GRPCFixture.text("p1")
            case "broadcast id of the wrong shape":
                request.broadcast.entity = "user"
                request.broadcast.id = GRPCFixture.composite(["u1", "u2"])
                request.broadcast.features = ["user_history.recent_videos"]
            case "broadcast composite part with no kind":
                request.broadcast.entity = "country_category"
                request.broadcast.id = GRPCFixture.composite(["US", "music"])
                request.broadcast.id.composite.parts[0] = Crema_V1_IdPart()
                request.broadcast.features = ["cohort_stats.views_1d"]
            case "unknown broadcast feature":
                request.broadcast.entity = "user"
                request.broadcast.id = GRPCFixture.text("u1")
                request.broadcast.features = ["user_history.nope"]
            default:
                request = GRPCFixture.request("account", [GRPCFixture.text("99999999999999999999")], ["account_stats.total_watch"])
            }
            let error = await #expect(throws: RPCError.self) { try await client.get(request) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains(named) == true, "\(error?.message ?? "no error")")

            let valid = GRPCFixture.request("video", [GRPCFixture.text("v1"), GRPCFixture.text("v404")], ["video_stats.views_1d"])
            let response = try await client.get(valid)
            #expect(ColumnDecoder.values(of: try #require(response.columns.first)) == [.int(3), .null])
            try expectColumnsMatch(response, FeatureRequest(entity: "video", ids: [[.string("v1")], [.string("v404")]], features: ["video_stats.views_1d"]), engine: engine)
        }
    }

    @Test("gRPC: an id of the wrong shape is named by its position among many ids")
    func grpcWrongShapeNamesTheID() async throws {
        try await GRPCFixture.withServer { client, _, _ in
            let request = GRPCFixture.request(
                "country_category", [GRPCFixture.composite(["US", "music"]), GRPCFixture.composite(["FR", "music"]), GRPCFixture.composite(["US"])],
                ["cohort_stats.views_1d"]
            )
            let error = await #expect(throws: RPCError.self) { try await client.get(request) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("ids[2]") == true, "\(error?.message ?? "no error")")
        }
    }
}
