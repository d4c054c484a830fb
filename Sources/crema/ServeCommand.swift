import ArgumentParser
import CremaEngine
import CremaIngest
import CremaServing
import CremaSpec
import CremaStorage
import Logging
import ServiceLifecycle

/// `crema serve`: ingest and serving on the specs in a directory, until SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Apply events pushed to the ingest socket to the features of a spec, durably."
    )

    @Option(help: "The spec directory or file.")
    var specs = "specs"

    @Option(help: "Where RocksDB keeps the state.")
    var data = "./crema-data"

    @Option(help: "The ingest socket: HOST:PORT or unix:PATH.")
    var ingest = "127.0.0.1:7070"

    @Option(help: "The HTTP API (features, specs, events, metrics): HOST:PORT.")
    var http = "127.0.0.1:8080"

    @Option(help: "The gRPC read API (crema.v1.Features): IP:PORT, an IPv4 or IPv6 address.")
    var grpc = "127.0.0.1:9090"

    @Option(help: "wal: acknowledge once the batch is in the WAL; sync: also fsync it.")
    var durability: EngineConfiguration.Durability = .wal

    @Option(help: """
        Bytes of memory for rows and RocksDB's block cache (an eighth of it, at most 256 MiB); \
        rows unused for longest leave memory beyond it and are read from RocksDB when needed.
        """)
    var cacheSize = 4 << 30

    @Option(help: """
        Changed rows that may wait in memory before they are written to RocksDB; beyond it the \
        oldest changed are written (fewer under a small --cache-size).
        """)
    var checkpointRows = EngineConfiguration().checkpointRows

    @Option(help: "Seconds a changed row may wait before it is written to RocksDB; bounds the log replayed after a crash.")
    var checkpointInterval = Double(EngineConfiguration().checkpointInterval.components.seconds)

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard checkpointRows >= 1 else { throw ValidationError("--checkpoint-rows must be at least 1, got \(checkpointRows)") }
        guard checkpointInterval > 0 else { throw ValidationError("--checkpoint-interval must be positive, got \(checkpointInterval)") }
    }

    func run() async throws {
        let logger = makeLogger(label: "crema", level: logLevel)
        let spec = try compileOrExit(specs)
        let address = try IngestAddress(parsing: ingest)
        let httpAddress = try HostAndPort(parsing: http, option: "--http")
        let grpcAddress = try HostAndPort(parsing: grpc, option: "--grpc")
        let blockCacheBytes = min(cacheSize / 8, 256 << 20)
        var engineConfiguration = EngineConfiguration()
        let database = try Database(
            path: data, options: DatabaseOptions(blockCacheBytes: blockCacheBytes),
            rowFilter: Engine.expiredRowFilter(spec: spec, clock: engineConfiguration.clock)
        )
        engineConfiguration.durability = durability
        engineConfiguration.rowMemoryBudget = cacheSize - blockCacheBytes
        engineConfiguration.checkpointRows = checkpointRows
        engineConfiguration.checkpointInterval = .milliseconds(Int64(checkpointInterval * 1_000))
        let engine = try Engine(spec: spec, database: database, configuration: engineConfiguration, logger: logger)
        let ingestLoops = try await IngestEventLoops.makeGroup()
        let ingestServer = IngestServer(
            configuration: IngestServer.Configuration(address: address), spec: spec, sink: engine, eventLoopGroup: ingestLoops,
            logger: logger
        )
        let metrics = CremaMetrics(engine: engine, database: database, ingestStatistics: { ingestServer.statistics })
        metrics.bootstrapMetricsSystem()
        let httpServer = HTTPServer(
            configuration: HTTPServer.Configuration(host: httpAddress.host, port: httpAddress.port),
            engine: engine, metrics: metrics, logger: logger
        )
        let grpcServer = GRPCFeatureServer(
            configuration: GRPCFeatureServer.Configuration(host: grpcAddress.host, port: grpcAddress.port),
            engine: engine, metrics: metrics, logger: logger
        )
        let announcement = ReadyAnnouncement { [specs, data] in
            let bound = try await ingestServer.boundAddress()
            let httpPort = try await httpServer.boundPort()
            let grpcPort = try await grpcServer.boundPort()
            printUnbuffered(
                "crema: serving \(specs) (\(spec.summary)); ingest on \(bound); http on \(httpAddress.host):\(httpPort); "
                    + "grpc on \(grpcAddress.host):\(grpcPort); data in \(data)"
            )
        }
        // Services stop in reverse order: ingest drains its connections before the engine stops.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: EngineService(engine: engine)),
                    .init(service: ingestServer),
                    .init(service: httpServer),
                    .init(service: grpcServer),
                    .init(service: announcement, successTerminationBehavior: .ignore),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        try await ingestLoops.shutdownGracefully()
        database.close()
        logger.info("stopped", metadata: ["accepted": "\(engine.statistics.accepted)"])
    }
}

/// Keeps the engine for the lifetime of the service group and stops it, after ingest, on shutdown.
struct EngineService: Service {
    let engine: Engine

    func run() async throws {
        try? await gracefulShutdown()
        engine.shutdown()
    }
}

/// Prints the ready line once the listeners are bound.
struct ReadyAnnouncement: Service {
    let announce: @Sendable () async throws -> Void

    func run() async throws {
        try await announce()
    }
}

extension EngineConfiguration.Durability: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A `HOST:PORT` option (`[V6]:PORT` for IPv6).
struct HostAndPort {
    let host: String
    let port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(parsing text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65_535).contains(port), colon != text.startIndex
        else {
            throw ValidationError("\(option) \(text): expected HOST:PORT with a port in 0...65535")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host
        self.port = port
    }
}

/// Compiles a spec, or prints its errors and exits with status 1.
func compileOrExit(_ path: String) throws -> CompiledSpec {
    switch SpecCompiler.compile(paths: [path]) {
    case .success(let spec):
        return spec
    case .failure(let errors):
        printToStandardError(errors.description)
        throw ExitCode(1)
    }
}

/// A logger writing to standard error at `level`.
func makeLogger(label: String, level: Logger.Level) -> Logger {
    var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}
