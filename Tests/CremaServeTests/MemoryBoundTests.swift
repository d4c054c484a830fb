import Foundation
import Testing

/// One HTTP/1.1 request over a fresh connection; returns the body.
private func httpGet(port: Int, _ request: String) throws -> String {
    let socket = try LineSocket(port: port)
    try socket.send(request)
    return try socket.readToEnd()
}

@Suite("crema serve memory bound", .serialized)
struct MemoryBoundServeTests {
    @Test("with a small --cache-size, rows leave memory after checkpoints and read back from RocksDB")
    func smallCacheSize() throws {
        let workspace = try makeClicksWorkspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        // 400 kB: 50 kB of block cache, 350 kB for rows (about 1 kB each, estimated).
        let server = try CremaProcess([
            "serve", "--specs", workspace.appendingPathComponent("specs").path, "--data", workspace.appendingPathComponent("data").path,
            "--ingest", "127.0.0.1:0", "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0", "--cache-size", "400000",
        ])
        defer { server.stop(signal: SIGTERM) }
        let ports = try server.waitUntilReadyPorts()
        let items = 3_000
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let socket = try LineSocket(port: ports.ingest)
        try socket.send("{\"producer\": \"p\"}\n")
        _ = try socket.readReply(withKey: "last_seq")
        for round in 0..<2 {
            let lines = (0..<items).map { item in
                "{\"type\": \"click\", \"seq\": \(round * items + item + 1), \"ts\": \(now - 1_000), \"item\": \"i\(item)\", \"amount\": \(item)}\n"
            }
            try socket.send(lines.joined())
            // Acks count the connection's lines; wait for the last of this round.
            while try socket.readReply(withKey: "ack")["ack"] as? Int != (round + 1) * items {}
        }
        // The writer checkpoints (and evicts) within 2 s of the last change. Poll until the rows
        // are within the bound: a sample taken while it evicts (one row per hold of the table's
        // lock) falls in between.
        var rowsInMemory = Int.max
        for _ in 0..<50 where rowsInMemory >= items / 2 {
            usleep(100_000)
            let metrics = try httpGet(port: ports.http, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let line = metrics.split(whereSeparator: \.isNewline).first { $0.hasPrefix("crema_engine_rows_in_memory ") }
            rowsInMemory = line.flatMap { Double($0.split(separator: " ")[1]) }.map { Int($0) } ?? Int.max
        }
        #expect(rowsInMemory < items / 2, "rows in memory: \(rowsInMemory)")
        let ids = (0..<items).map { "\"i\($0)\"" }.joined(separator: ",")
        let body = "{\"entity\": \"item\", \"ids\": [\(ids)], \"features\": [\"item_stats.clicks\", \"item_stats.amount\"]}"
        let answer = try httpGet(
            port: ports.http,
            "POST /v1/features HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        )
        let json = try #require(answer.range(of: "\r\n\r\n").map { String(answer[$0.upperBound...]) })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let features = try #require(object["features"] as? [String: [Int]])
        #expect(features["item_stats.clicks"] == Array(repeating: 2, count: items))
        #expect(features["item_stats.amount"] == (0..<items).map { 2 * $0 })
    }
}
