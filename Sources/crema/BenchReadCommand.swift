import ArgumentParser
import CremaEngine
import CremaServing
import CremaSpec
import CremaStorage
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Synchronization

/// `crema bench read`: latency of one ranker request — `ids` candidates × windowed features plus
/// a broadcast user — measured in the engine (server-side) and over HTTP and gRPC (client-side,
/// a client in this process on 127.0.0.1), with rows in memory (hot) and after a restart, from
/// RocksDB (cold).
struct BenchReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Latency of reading N ids × features plus a broadcast user, hot and cold, server- and client-side."
    )

    @Option(help: "The spec directory or file.")
    var specs = "specs"

    @Option(help: "The event type to load.")
    var event = "view"

    @Option(help: "Events loaded before reading.")
    var events = 1_000_000

    @Option(help: "Distinct values of each entity key field.")
    var entities = 100_000

    @Option(help: "The candidates' entity.")
    var entity = "video"

    @Option(help: "Candidate ids per request.")
    var ids = 10_000

    @Option(parsing: .upToNextOption, help: "The candidates' features.")
    var features = [
        "video_stats.views_1h", "video_stats.views_1d", "video_stats.views_7d", "video_stats.watch_time_1d",
        "video_stats.watch_time_7d", "video_stats.avg_watch_1d", "video_stats.completions_1d", "video_stats.watch_variance_7d",
    ]

    @Option(help: "The broadcast entity and feature, as ENTITY:FEATURE.")
    var broadcast = "user:user_history.recent_videos"

    @Option(help: "Requests measured per scenario.")
    var requests = 50

    /// What `crema bench read` can measure.
    enum Scenario: String, CaseIterable, ExpressibleByArgument {
        case first, hot, ingesting, http, grpc, redis
        case grpcWhileProducing = "grpc-producing"
        case cold
    }

    @Option(
        parsing: .upToNextOption,
        help: """
            The scenarios, in this order: first (server-side, every id read for the first time since its row changed), \
            hot (server-side, again), ingesting (hot while events are applied as fast as the engine takes them), \
            http, grpc (client-side, in this process), redis (the yardstick, when redis-server is installed: gRPC \
            requests alternating with one Redis MGET of the same ids, each id's value 8 ints as text, from a private \
            redis-server on 127.0.0.1), grpc-producing (gRPC while producers push events over the \
            ingest socket, on its event loops as in `crema serve`, as fast as they are acknowledged), cold (server-side after a restart: each row read once, \
            then random ids again, once the writer has brought the rows read into memory).
            """
    )
    var scenarios = Scenario.allCases

    func run() async throws {
        let spec = try compileOrExit(specs)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crema-bench-read-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        print("crema bench read: \(ids) ids × \(features.count) features + 1 broadcast feature, \(entities) entities per key, \(events) \(event) events loaded")
        print("| scenario | p50 ms | p99 ms | mean ms |")
        print("|---|---|---|---|")
        let pool = IDPool(
            candidates: (0..<entities).map { "\(keyField.prefix(1))\($0)" }, users: (0..<entities).map { "u\($0)" }
        )
        var database: Database? = try Database(path: directory.path)
        // Rows written 1 s after they change, so that writing them is over before measuring.
        var configuration = EngineConfiguration()
        configuration.checkpointInterval = .seconds(1)
        var engine: Engine? = try Engine(spec: spec, database: database!, configuration: configuration)
        try await load(into: engine!, spec: spec)
        // Let the load's last checkpoints and RocksDB's flush finish: they would share the cores.
        try await Task.sleep(for: .seconds(3))
        if scenarios.contains(.first) {
            try measureReadsOfEachRowOnce("hot, first reads since the rows changed, server-side", engine: engine!, pool: pool)
        }
        if scenarios.contains(.hot) {
            try await measure("hot, server-side (FeatureService.get)", engine: engine!, pool: pool, overHTTP: false)
        }
        if scenarios.contains(.ingesting) {
            try await measureWhileIngesting(engine: engine!, spec: spec, pool: pool)
        }
        if scenarios.contains(.http) {
            try await measure("hot, client-side (HTTP POST /v1/features)", engine: engine!, pool: pool, overHTTP: true)
        }
        if scenarios.contains(.grpc) {
            try await measureGRPC("hot, client-side (gRPC crema.v1.Features/Get)", engine: engine!, pool: pool)
        }
        if scenarios.contains(.redis) {
            try await measureGRPCAlternatingWithRedis(engine: engine!, pool: pool)
        }
        if scenarios.contains(.grpcWhileProducing) {
            try await measureGRPCWhileProducing(engine: engine!, spec: spec, pool: pool)
        }
        engine!.shutdown()
        engine = nil
        database!.close()
        if scenarios.contains(.cold) {
            database = try Database(path: directory.path)
            engine = try Engine(spec: spec, database: database!)
            try measureReadsOfEachRowOnce("cold, server-side, each row once after a restart (RocksDB multi-get)", engine: engine!, pool: pool)
            // The writer brings the rows read into memory once no read is in progress.
            try await Task.sleep(for: .seconds(2))
            try await measure("after a restart, server-side, rows read once before (back in memory)", engine: engine!, pool: pool, overHTTP: false)
            engine!.shutdown()
            database!.close()
        }
    }

    /// Reads every entity once, `ids` distinct ids per request: each value is finalized from the
    /// row's tiles rather than served from the result cache, or, after a restart, read from
    /// RocksDB before the writer brings the row into memory.
    private func measureReadsOfEachRowOnce(_ scenario: String, engine: Engine, pool: IDPool) throws {
        var random = SplitMix64(seed: 5)
        var order = Array(0..<entities)
        for index in order.indices.reversed() {
            order.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        let service = FeatureService(engine: engine)
        var samples: [Double] = []
        for start in stride(from: 0, to: entities - ids + 1, by: ids) {
            var request = request(&random, from: pool)
            request.ids = .texts(PackedTexts(order[start..<(start + ids)].map { pool.candidates[$0] }))
            let began = ContinuousClock.now
            _ = try service.get(request)
            samples.append(milliseconds(ContinuousClock.now - began))
        }
        guard !samples.isEmpty else { return }
        report(scenario, samples)
    }

    private func load(into engine: Engine, spec: CompiledSpec) async throws {
        var generator = try EventGenerator(spec: spec, event: event, entities: entities, seed: 7)
        let decoder = EventDecoder(spec: spec)
        var sequence = 1
        while sequence <= events {
            let count = min(4_096, events - sequence + 1)
            _ = try await engine.submit(try batch(of: count, from: sequence, producer: "bench-read", &generator, decoder))
            sequence += count
        }
    }

    /// `count` generated events from `sequence` on, stamped now.
    private func batch(
        of count: Int, from sequence: Int, producer: String?, _ generator: inout EventGenerator, _ decoder: EventDecoder
    ) throws -> IngestBatch {
        let now = systemTimeMilliseconds()
        var batch = IngestBatch(producer: producer)
        for number in sequence..<(sequence + count) {
            let line = Array(generator.line(sequence: number, now: now).utf8.dropLast())
            batch.append(try decoder.decode(line: line, lineNumber: number, expectsSequence: true).get(), line: line)
        }
        return batch
    }

    /// Hot server-side reads while another task submits batches of 4,096 events back to back
    /// (without a producer, so the same batches can be sent again).
    private func measureWhileIngesting(engine: Engine, spec: CompiledSpec, pool: IDPool) async throws {
        var generator = try EventGenerator(spec: spec, event: event, entities: entities, seed: 13)
        let decoder = EventDecoder(spec: spec)
        let batches = try (0..<32).map { try batch(of: 4_096, from: $0 * 4_096 + 1, producer: nil, &generator, decoder) }
        let writer = Task {
            var applied = 0
            while !Task.isCancelled {
                _ = try await engine.submit(batches[(applied / 4_096) % batches.count])
                applied += 4_096
            }
            return applied
        }
        let start = ContinuousClock.now
        try await measure("hot, server-side, while ingesting", engine: engine, pool: pool, overHTTP: false)
        writer.cancel()
        let applied = try await writer.value
        print("|   (events applied meanwhile: \(applied) in \(format(milliseconds(ContinuousClock.now - start) / 1_000)) s) | | | |")
    }

    /// gRPC reads while two producers without a name (so that the same lines can be sent again)
    /// push chunks of 1,000 events over the ingest socket, 8 unacknowledged each, served by the
    /// ingest event loops `crema serve` uses.
    private func measureGRPCWhileProducing(engine: Engine, spec: CompiledSpec, pool: IDPool) async throws {
        var generator = try EventGenerator(spec: spec, event: event, entities: entities, seed: 17)
        let now = systemTimeMilliseconds()
        let chunks = (0..<32).map { chunk in
            Array((0..<1_000).map { generator.line(sequence: chunk * 1_000 + $0 + 1, now: now) }.joined().utf8)
        }
        let server = try await BenchIngestServer.start(spec: spec, engine: engine)
        let producers = try (0..<2).map { _ in
            try IngestLoad(port: server.port, producer: nil, chunks: chunks, linesPerChunk: Array(repeating: 1_000, count: chunks.count), window: 8)
        }
        let isMeasuring = Atomic(true)
        let start = ContinuousClock.now
        // The producers block their threads: Dispatch's, not the tasks' (the gRPC client needs those).
        let sending = DispatchGroup()
        for producer in producers {
            DispatchQueue.global().async(group: sending) { try? producer.run { _ in !isMeasuring.load(ordering: .relaxed) } }
        }
        try await measureGRPC("hot, client-side (gRPC) while producers push events over the ingest socket", engine: engine, pool: pool)
        isMeasuring.store(false, ordering: .relaxed)
        await withCheckedContinuation { continuation in sending.notify(queue: .global()) { continuation.resume() } }
        let acknowledged = producers.reduce(0) { $0 + $1.latencies.count * 1_000 }
        print("|   (events acknowledged meanwhile: \(acknowledged) in \(format(milliseconds(ContinuousClock.now - start) / 1_000)) s) | | | |")
        try await server.stop()
    }

    /// A request for `ids` random candidates and a random broadcast user. The ids come from
    /// `pool`, made once: building 10,000 strings per request would leave the allocator's
    /// bins full of small freed blocks, which the server's next large allocation would sweep
    /// on the clock.
    private func request(_ random: inout SplitMix64, from pool: IDPool) -> FeatureRequest {
        let parts = broadcast.split(separator: ":", maxSplits: 1).map(String.init)
        return FeatureRequest(
            entity: entity, ids: .texts(PackedTexts((0..<ids).map { _ in pool.candidate(&random) })), features: features,
            broadcast: .init(entity: parts[0], id: [.string(pool.user(&random))], features: [parts[1]])
        )
    }

    /// The candidates' ids of a request made by `request(_:)`.
    private func candidateTexts(of request: FeatureRequest) -> [String] {
        guard case .texts(let texts) = request.ids else { preconditionFailure("bench requests carry text ids") }
        return Array(texts)
    }

    /// The ids requests pick from: every candidate and every user the generator makes.
    private struct IDPool {
        let candidates: [String]
        let users: [String]

        func candidate(_ random: inout SplitMix64) -> String { candidates[Int(random.next() % UInt64(candidates.count))] }
        func user(_ random: inout SplitMix64) -> String { users[Int(random.next() % UInt64(users.count))] }
    }

    /// The candidates' key field name (the generator's ids start with its first letter).
    private var keyField: String { entity == "video" ? "video_id" : entity }

    private func measure(_ scenario: String, engine: Engine, pool: IDPool, overHTTP: Bool) async throws {
        var random = SplitMix64(seed: 11)
        var samples: [Double] = []
        if overHTTP {
            var logger = Logger(label: "crema.bench")
            logger.logLevel = .warning
            let metrics = CremaMetrics(engine: engine)
            let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0), engine: engine, metrics: metrics, logger: logger)
            let task = Task { try await server.run() }
            let port = try await server.boundPort()
            let address = HostAndPort(host: "127.0.0.1", port: port)
            for round in 0..<(requests + 3) {
                let body = try JSONSerialization.data(withJSONObject: json(request(&random, from: pool)))
                let start = ContinuousClock.now
                let (status, _) = try HTTPRequest.send(method: "POST", path: "/v1/features", body: body, to: address)
                let elapsed = ContinuousClock.now - start
                guard status == 200 else { throw BenchmarkError("HTTP \(status)") }
                if round >= 3 { samples.append(milliseconds(elapsed)) }
            }
            task.cancel()
            _ = try? await task.value
        } else {
            let service = FeatureService(engine: engine)
            for round in 0..<(requests + 3) {
                let request = request(&random, from: pool)
                let start = ContinuousClock.now
                _ = try service.get(request)
                let elapsed = ContinuousClock.now - start
                if round >= 3 { samples.append(milliseconds(elapsed)) }
            }
        }
        report(scenario, samples)
    }

    /// gRPC requests alternating with one Redis MGET of the same candidate ids (which goes
    /// first alternates too), so that both see the machine in the same state.
    private func measureGRPCAlternatingWithRedis(engine: Engine, pool: IDPool) async throws {
        guard let yardstick = try RedisYardstick.start(keys: pool.candidates) else {
            print("| redis MGET: not measured, redis-server is not installed (apt-get install redis-server) | | | |")
            return
        }
        try await measureGRPC("hot, client-side (gRPC), alternating with Redis", engine: engine, pool: pool, yardstick: yardstick)
    }

    /// Times `requests` gRPC calls from a client in this process, response decoding included,
    /// and, with a `yardstick`, one Redis MGET of each request's candidate ids before or after it.
    private func measureGRPC(_ scenario: String, engine: Engine, pool: IDPool, yardstick: RedisYardstick? = nil) async throws {
        var random = SplitMix64(seed: 11)
        var samples: [Double] = []
        var redisSamples: [Double] = []
        let server = GRPCFeatureServer(configuration: .init(host: "127.0.0.1", port: 0), engine: engine)
        let running = Task { try await server.run() }
        defer { running.cancel() }
        let transport = try HTTP2ClientTransport.Posix.http2NIOPosix(
            target: .ipv4(address: "127.0.0.1", port: try await server.boundPort()), transportSecurity: .plaintext,
            // Frames of up to 1 MiB, as the server allows: a 650 kB response comes in one frame, not 40.
            config: .defaults { $0.http2.maxFrameSize = 1 << 20 }
        )
        try await withGRPCClient(transport: transport) { client in
            let features = Crema_V1_Features.Client(wrapping: client)
            var options = CallOptions.defaults
            options.maxResponseMessageBytes = 256 << 20
            for round in 0..<(requests + 3) {
                let request = request(&random, from: pool)
                let message = grpcRequest(request)
                let redisIsFirst = round % 2 == 0
                if let yardstick, redisIsFirst { redisSamples.append(try timeMultiGet(request, on: yardstick)) }
                let start = ContinuousClock.now
                let response = try await features.get(message, options: options)
                let elapsed = ContinuousClock.now - start
                guard response.columns.count == self.features.count else {
                    throw BenchmarkError("gRPC answered \(response.columns.count) columns")
                }
                if let yardstick, !redisIsFirst { redisSamples.append(try timeMultiGet(request, on: yardstick)) }
                samples.append(milliseconds(elapsed))
            }
        }
        // The first three of each are warm-up.
        report(scenario, Array(samples.dropFirst(3)))
        if yardstick != nil {
            report("redis MGET of the same ids, alternating with gRPC (the yardstick)", Array(redisSamples.dropFirst(3)))
            let fasterRounds = zip(samples, redisSamples).dropFirst(3).count { $0 < $1 }
            print("|   (gRPC faster than Redis in \(fasterRounds) of \(requests) requests) | | | |")
        }
    }

    /// Milliseconds of one Redis MGET of the candidate ids of `request`, the reply parsed.
    private func timeMultiGet(_ request: FeatureRequest, on yardstick: RedisYardstick) throws -> Double {
        let keys = candidateTexts(of: request)
        let start = ContinuousClock.now
        let found = try yardstick.multiGet(keys)
        let elapsed = ContinuousClock.now - start
        guard found == keys.count else { throw BenchmarkError("redis had values for \(found) of \(keys.count) keys") }
        return milliseconds(elapsed)
    }

    /// Prints one table row: p50, p99 and mean of `samples` (ms).
    private func report(_ scenario: String, _ samples: [Double]) {
        let samples = samples.sorted()
        let mean = samples.reduce(0, +) / Double(samples.count)
        print("| \(scenario) | \(format(samples[samples.count / 2])) | \(format(samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))])) | \(format(mean)) |")
    }

    /// The gRPC message of `request`, its single-part string ids packed in `text_ids`.
    private func grpcRequest(_ request: FeatureRequest) -> Crema_V1_GetRequest {
        func id(_ parts: [EntityKeyPart]) -> Crema_V1_EntityId {
            Crema_V1_EntityId.with { id in
                switch parts[0] {
                case .string(let text): id.text = text
                case .int(let number): id.number = number
                }
            }
        }
        return Crema_V1_GetRequest.with { message in
            message.entity = request.entity
            message.textIds = candidateTexts(of: request)
            message.features = request.features
            if let broadcast = request.broadcast {
                message.broadcast = .with { part in
                    part.entity = broadcast.entity
                    part.id = id(broadcast.id)
                    part.features = broadcast.features
                }
            }
        }
    }

    private func json(_ request: FeatureRequest) -> [String: Any] {
        func id(_ parts: [EntityKeyPart]) -> Any {
            let values: [Any] = parts.map { part -> Any in
                switch part {
                case .string(let text): return text
                case .int(let number): return number
                }
            }
            return values.count == 1 ? values[0] : values
        }
        var object: [String: Any] = ["entity": request.entity, "ids": candidateTexts(of: request), "features": request.features]
        if let broadcast = request.broadcast {
            object["broadcast"] = ["entity": broadcast.entity, "id": id(broadcast.id), "features": broadcast.features]
        }
        return object
    }

    private func milliseconds(_ duration: Swift.Duration) -> Double {
        duration.inSeconds * 1_000
    }

    private func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
