import CremaAggregation
import CremaEngine
import CremaSpec
import CremaStorage
import Foundation
import Testing

private let items = 10

private func click(seq: Int, ts: Int64) -> String {
    "{\"type\": \"click\", \"seq\": \(seq), \"ts\": \(ts), \"item\": \"i\(seq % items)\", \"amount\": \(seq)}\n"
}

@Suite("crema serve as a process", .serialized)
struct CrashRecoveryTests {
    /// With the default checkpoints nothing is written before a kill but the log; with at most
    /// two rows left unwritten, every commit writes rows too, so stored rows hold events after
    /// the checkpoint mark and replay must skip them.
    @Test(
        "killed with SIGKILL mid-stream again and again, it restarts to exactly the acknowledged state",
        arguments: [[], ["--checkpoint-rows", "3"]]
    )
    func exactlyOnceAcrossKills(checkpointArguments: [String]) async throws {
        let workspace = try makeClicksWorkspace()
        defer { try? FileManager.default.removeItem(at: workspace) }
        let arguments = ["serve", "--specs", workspace.appendingPathComponent("specs").path,
                         "--data", workspace.appendingPathComponent("data").path, "--ingest", "127.0.0.1:0", "--http", "127.0.0.1:0",
                         "--grpc", "127.0.0.1:0"] + checkpointArguments
        var random = SystemRandomNumberGenerator()
        let total = 12_000
        let chunk = 200
        let kills = 4
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var next = 1
        var highestAcknowledged = 0
        var round = 0
        while next <= total {
            let server = try CremaProcess(arguments)
            let port = try server.waitUntilReady()
            let socket = try LineSocket(port: port)
            try socket.send("{\"producer\": \"clicks-1\"}\n")
            let hello = try socket.readReply(withKey: "last_seq")
            let lastSequence = hello["last_seq"] as! Int
            // Everything acknowledged before the kill is durable; more may be (a commit whose ack was lost).
            #expect(lastSequence >= highestAcknowledged)
            #expect(lastSequence <= total)
            next = lastSequence + 1
            let killAfter = round < kills ? Int.random(in: 1_000...3_000, using: &random) : Int.max
            var sentThisRound = 0
            let first = next
            streaming: while next <= total {
                let end = min(total, next + chunk - 1)
                try socket.send((next...end).map { click(seq: $0, ts: now - Int64($0)) }.joined())
                sentThisRound += end - next + 1
                if sentThisRound >= killAfter {
                    usleep(UInt32.random(in: 0...3_000, using: &random))
                    server.stop(signal: SIGKILL)
                    break streaming
                }
                let ack = try socket.readReply(withKey: "ack")
                #expect(ack["rejected"] as? Int == 0)
                highestAcknowledged = first + (ack["ack"] as! Int) - 1
                next = end + 1
            }
            if next > total {
                #expect(server.stop(signal: SIGTERM) == 0)
            }
            round += 1
        }
        #expect(round == kills + 1)

        let database = try Database(path: workspace.appendingPathComponent("data").path)
        let engine = try Engine(spec: SpecCompiler.compile(sources: [(file: "clicks.yaml", text: clicksSpec)]).get(), database: database)
        defer { engine.shutdown() }
        #expect(engine.lastSequence(of: "clicks-1") == UInt64(total))
        let references = try engine.resolve(features: ["item_stats.clicks", "item_stats.amount"], of: "item")
        let columns = try engine.read(ids: (0..<items).map { [.string("i\($0)")] }, features: references)
        for item in 0..<items {
            let sequences = (1...total).filter { $0 % items == item }
            #expect(columns[0][item] == .int(Int64(sequences.count)), "clicks of i\(item)")
            #expect(columns[1][item] == .int(Int64(sequences.reduce(0, +))), "amount of i\(item)")
        }
        let logged = try engine.loggedEvents()
        #expect(logged.count == total)
        #expect(Set(logged.map(\.producerSequence)).count == total)
    }
}
