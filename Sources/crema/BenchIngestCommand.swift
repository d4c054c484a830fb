import ArgumentParser
import CremaEngine
import CremaIngest
import CremaStorage
import Foundation
import Synchronization

/// `crema bench ingest`: events per second acknowledged over the ingest socket, with ack
/// latency percentiles and resident memory per million rows, on a spec's events.
struct BenchIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Events/s acknowledged over the ingest socket, ack latency and memory per million rows."
    )

    @Option(help: "The spec directory or file.")
    var specs = "specs"

    @Option(help: "The event type to send.")
    var event = "view"

    @Option(help: "Events to send in all.")
    var events = 1_000_000

    @Option(help: "Producer connections sending at once.")
    var connections = 4

    @Option(help: "Distinct values of each entity key field.")
    var entities = 100_000

    @Option(help: "Zipf exponent of entity ids: 0 picks them uniformly, 1 gives the id of rank r a share ∝ 1/r.")
    var keySkew = 0.0

    @Option(help: "Lines per write; an ack latency sample is one chunk.")
    var chunk = 1_000

    @Option(help: "Chunks a connection may have unacknowledged.")
    var window = 8

    @Option(help: "wal or sync.")
    var durability: EngineConfiguration.Durability = .wal

    @Option(help: "Seconds a changed row may stay unwritten, as `crema serve --checkpoint-interval`.")
    var checkpointInterval = Double(EngineConfiguration().checkpointInterval.components.seconds)

    @Flag(help: "Write floats and vector elements in full (up to 17 digits), as a JSON writer prints a double, not with three decimals.")
    var floatsInFull = false

    @Flag(help: "Submit the decoded events straight to the engine, without the socket: the writer's own throughput.")
    var engineOnly = false

    func validate() throws {
        guard keySkew >= 0 else { throw ValidationError("--key-skew must be 0 or more, got \(keySkew)") }
        guard checkpointInterval > 0 else { throw ValidationError("--checkpoint-interval must be positive, got \(checkpointInterval)") }
    }

    func run() async throws {
        let spec = try compileOrExit(specs)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crema-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }

        let now = systemTimeMilliseconds()
        var loads: [[([UInt8], Int)]] = []
        for connection in 0..<connections {
            var generator = try EventGenerator(
                spec: spec, event: event, entities: entities, keySkew: keySkew, writesFloatsInFull: floatsInFull, seed: UInt64(connection + 1))
            let count = events / connections
            var chunks: [([UInt8], Int)] = []
            var sequence = 1
            while sequence <= count {
                let lines = min(chunk, count - sequence + 1)
                var text = ""
                for offset in 0..<lines { text += generator.line(sequence: sequence + offset, now: now) }
                chunks.append((Array(text.utf8), lines))
                sequence += lines
            }
            loads.append(chunks)
        }
        let bytes = loads.joined().reduce(0) { $0 + $1.0.count }
        let residentBefore = residentBytes()

        let database = try Database(path: directory.path)
        var configuration = EngineConfiguration()
        configuration.durability = durability
        configuration.checkpointInterval = .milliseconds(Int64(checkpointInterval * 1_000))
        let engine = try Engine(spec: spec, database: database, configuration: configuration)
        if engineOnly {
            let decoder = EventDecoder(spec: spec)
            let batches = try loads.enumerated().map { index, chunks in
                try chunks.map { chunk, _ in
                    var batch = IngestBatch(producer: "bench-\(index)")
                    try chunk.withUnsafeBytes { bytes in
                        try EventLineRules.forEachLine(in: bytes) { line in
                            batch.append(try decoder.decode(line: line, lineNumber: batch.events.count + 1, expectsSequence: true).get(), line: line)
                        }
                    }
                    return batch
                }
            }
            let start = ContinuousClock.now
            let cpuStart = processCPUSeconds()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for producerBatches in batches {
                    group.addTask { for batch in producerBatches { _ = try await engine.submit(batch) } }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - start
            let cpu = processCPUSeconds() - cpuStart
            let seconds = elapsed.inSeconds
            let statistics = engine.statistics
            engine.shutdown()
            database.close()
            print("crema bench ingest --engine-only: \(spec.summary), event \(event), \(entities) entities per key, key skew \(keySkew), floats \(floatsInFull ? "in full" : "with three decimals"), \(Allocator.description)")
            print("| events | accepted | seconds | events/s applied | CPU µs per event | commits | checkpoints | rows written | checkpoint s |")
            print("|---|---|---|---|---|---|---|---|---|")
            print("| \(events) | \(statistics.accepted) | \(format(seconds)) | \(Int(Double(statistics.accepted) / seconds)) | \(format(cpu * 1e6 / Double(max(statistics.accepted, 1)))) | \(statistics.commits) | \(statistics.checkpoints) | \(statistics.rowsWritten) | \(format(statistics.checkpointTime.inSeconds)) |")
            return
        }
        let server = try await BenchIngestServer.start(spec: spec, engine: engine)

        let clients = try loads.enumerated().map { index, chunks in
            try IngestLoad(port: server.port, producer: "bench-\(index)", chunks: chunks.map(\.0), linesPerChunk: chunks.map(\.1), window: window)
        }
        let start = ContinuousClock.now
        let cpuStart = processCPUSeconds()
        let failures = Mutex<[any Error]>([])
        DispatchQueue.concurrentPerform(iterations: clients.count) { index in
            do { try clients[index].run() } catch { failures.withLock { $0.append(error) } }
        }
        let elapsed = ContinuousClock.now - start
        let cpu = processCPUSeconds() - cpuStart
        if let failure = failures.withLock({ $0.first }) { throw failure }
        try await server.stop()

        let seconds = elapsed.inSeconds
        let latencies = clients.flatMap(\.latencies).sorted()
        let statistics = engine.statistics
        let rows = engine.rowsInMemory
        let residentGrowth = residentBytes() - residentBefore
        engine.shutdown()
        // After the final checkpoint every row has a size: the estimate `--cache-size` bounds.
        let estimate = engine.estimatedRowMemory
        database.close()

        print("crema bench ingest: \(spec.summary), event \(event), \(connections) connections, \(entities) entities per key, key skew \(keySkew), floats \(floatsInFull ? "in full" : "with three decimals"), durability \(durability), \(Allocator.description)")
        print("| events | accepted | seconds | events/s acked | CPU µs per event | MB/s | ack p50 ms | ack p99 ms | commits | rows in memory | RSS growth MB | MB per 1M rows | estimated row MB | rows written | checkpoint s |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        let perMillion = rows > 0 ? Double(residentGrowth) / Double(rows) : 0
        print("| \(events) | \(statistics.accepted) | \(format(seconds)) | \(Int(Double(statistics.accepted) / seconds)) | \(format(cpu * 1e6 / Double(max(statistics.accepted, 1)))) | \(format(Double(bytes) / seconds / 1e6)) | \(format(percentile(latencies, 0.5) * 1000)) | \(format(percentile(latencies, 0.99) * 1000)) | \(statistics.commits) | \(rows) | \(format(Double(residentGrowth) / 1e6)) | \(format(perMillion)) | \(format(Double(estimate) / 1e6)) | \(statistics.rowsWritten) | \(format(statistics.checkpointTime.inSeconds)) |")
    }

    private func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    private func format(_ value: Double) -> String { String(format: "%.2f", value) }

    /// CPU time (user and system) this process has used so far, over all its threads; in the
    /// socket run it includes the load generator's client threads.
    private func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        return user + system
    }

    /// Resident set size of this process, from /proc/self/statm.
    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
