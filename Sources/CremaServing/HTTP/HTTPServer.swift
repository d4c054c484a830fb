import CremaIngest
import CremaEngine
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The HTTP/JSON API (DESIGN.md, "Serving"): `POST /v1/features`,
/// `GET /v1/features/{entity}/{id}`, `GET /v1/specs`, `POST /v1/events`, `GET /metrics`,
/// `GET /healthz`, on NIO's HTTP/1.1 with keep-alive.
///
/// Runs as a `Service`: on graceful shutdown or cancellation it stops accepting, lets each
/// connection finish the response in progress, closes them, and returns.
public final class HTTPServer: Service, Sendable {
    /// Where the server listens and the limits of each request.
    public struct Configuration: Sendable {
        /// The host or address to bind.
        public var host: String
        /// The port; 0 picks a free one (see `boundPort()`).
        public var port: Int
        /// The largest request body accepted, in bytes; a larger one gets a 413.
        public var maximumBodyBytes = 64 << 20
        /// `max_line` for `POST /v1/events`, in bytes.
        public var maximumLineLength = 1 << 20

        /// Creates a configuration with the default limits.
        public init(host: String = "127.0.0.1", port: Int = 8080) {
            self.host = host
            self.port = port
        }
    }

    private let configuration: Configuration
    private let api: HTTPAPI
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let connections = ConnectionRegistry()
    private let binding = ListenerBinding<Int>()

    /// Creates a server; it listens once `run()` is called.
    /// - Parameters:
    ///   - engine: what reads and `POST /v1/events` go to.
    ///   - metrics: where request metrics go, and what `/metrics` renders.
    ///   - threadPool: where reads run, off the event loops.
    public init(
        configuration: Configuration, engine: Engine, metrics: CremaMetrics,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        threadPool: NIOThreadPool = .singleton, logger: Logger = Logger(label: "crema.http")
    ) {
        self.configuration = configuration
        self.api = HTTPAPI(engine: engine, metrics: metrics, threadPool: threadPool, maximumLineLength: configuration.maximumLineLength)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// The port the server listens on (the actual one when configured with port 0), once
    /// `run()` has bound it.
    /// - Throws: `HTTPServerError` when binding failed.
    public func boundPort() async throws -> Int {
        try await binding.value()
    }

    /// Listens and serves until graceful shutdown or cancellation, then closes the connections.
    /// - Throws: `HTTPServerError` when the address cannot be bound.
    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await bind()
        } catch {
            let failure = HTTPServerError(message: "cannot listen on \(configuration.host):\(configuration.port): \(error)")
            binding.settle(.failure(failure))
            throw failure
        }
        let port = channel.localAddress?.port ?? configuration.port
        binding.settle(.success(port))
        logger.debug("http listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])

        await serveUntilShutdown(channel) { self.beginShutdown(channel) }
        await connections.waitUntilAllClosed()
        logger.debug("http stopped")
    }

    private func bind() async throws -> any Channel {
        let api = self.api
        let maximumBodyBytes = configuration.maximumBodyBytes
        let connections = self.connections
        return try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(api: api, maximumBodyBytes: maximumBodyBytes))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
    }

    /// Stops accepting and asks every connection to close once its response in progress is written.
    private func beginShutdown(_ channel: any Channel) {
        channel.close(promise: nil)
        connections.stop(.gracefully)
    }
}

/// The HTTP server failed to start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var message: String

    /// The message.
    public var description: String { message }
}
