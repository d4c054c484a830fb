import CremaEngine
import CremaIngest
import CremaSpec
import Logging
import NIOPosix

/// The ingest socket as `crema serve` runs it (on its own event loops), listening on a free
/// port of 127.0.0.1, for the benchmarks.
struct BenchIngestServer {
    /// The port it listens on.
    let port: Int
    private let task: Task<Void, any Error>
    private let loops: MultiThreadedEventLoopGroup

    /// Starts a server of `spec`'s events submitting to `engine` and waits until it listens.
    static func start(spec: CompiledSpec, engine: Engine) async throws -> BenchIngestServer {
        var logger = Logger(label: "crema.bench")
        logger.logLevel = .warning
        let loops = try await IngestEventLoops.makeGroup()
        let server = IngestServer(
            configuration: .init(address: .tcp(host: "127.0.0.1", port: 0)), spec: spec, sink: engine, eventLoopGroup: loops, logger: logger)
        let task = Task { try await server.run() }
        guard case .tcp(_, let port) = try await server.boundAddress() else { throw BenchmarkError("no TCP port") }
        return BenchIngestServer(port: port, task: task, loops: loops)
    }

    /// Stops listening, closes the connections and the event loops.
    func stop() async throws {
        task.cancel()
        _ = try? await task.value
        try await loops.shutdownGracefully()
    }
}
