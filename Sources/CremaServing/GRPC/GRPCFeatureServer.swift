import CremaEngine
import CremaIngest
import GRPCCore
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import ServiceLifecycle

/// The gRPC read API (DESIGN.md, "Serving"): `crema.v1.Features/Get` over HTTP/2 in
/// plaintext (h2c with prior knowledge), served directly on SwiftNIO and swift-nio-http2.
///
/// Each connection is NIO's HTTP/2 handler with one child channel per stream, running a
/// ``GRPCStreamHandler`` (see ``GRPCUnaryStateMachine`` for the protocol cases). The server
/// advertises a 16 MiB flow-control window (streams and connection) and 1 MiB frames, so a
/// large request never waits for a WINDOW_UPDATE. `grpc-timeout` is honoured
/// (`DEADLINE_EXCEEDED`, though the read itself, once started, runs to its end).
///
/// Runs as a `Service`: on graceful shutdown it stops accepting connections, sends each one
/// a GOAWAY, lets the RPCs in progress finish, and returns once every connection has closed;
/// cancellation closes the connections at once.
public final class GRPCFeatureServer: Service, Sendable {
    /// Where the server listens and the limits of each request.
    public struct Configuration: Sendable {
        /// The IP address to bind (IPv4, or IPv6 without brackets).
        public var host: String
        /// The port; 0 picks a free one (see `boundPort()`).
        public var port: Int
        /// The largest request message accepted, in bytes; a larger one fails with
        /// `RESOURCE_EXHAUSTED`.
        public var maximumRequestBytes = 64 << 20

        /// Creates a configuration with the default limits.
        public init(host: String = "127.0.0.1", port: Int = 9090) {
            self.host = host
            self.port = port
        }
    }

    /// The inbound flow-control window, per stream and for the connection, in bytes.
    static let windowBytes = 16 << 20
    /// The largest frame the server accepts, in bytes.
    static let maximumFrameBytes = 1 << 20

    private let configuration: Configuration
    private let service: FeaturesService
    private let logger: Logger
    private let binding = ListenerBinding<Int>()
    private let connections = ConnectionRegistry()

    /// Creates a server; it listens once `run()` is called.
    /// - Parameters:
    ///   - engine: What reads go to.
    ///   - metrics: Where each call's status, latency and number of ids are recorded, if given.
    ///   - threadPool: Where reads and column encoding run, off the event loops.
    public init(
        configuration: Configuration, engine: Engine, metrics: CremaMetrics? = nil, threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "crema.grpc")
    ) {
        self.configuration = configuration
        self.service = FeaturesService(engine: engine, metrics: metrics, threadPool: threadPool)
        self.logger = logger
    }

    /// The port the server listens on (the actual one when configured with port 0), once
    /// `run()` has bound it.
    /// - Throws: `RuntimeError` when binding failed.
    public func boundPort() async throws -> Int {
        try await binding.value()
    }

    /// Listens and serves until graceful shutdown (then finishes the RPCs in progress) or
    /// cancellation.
    /// - Throws: `RuntimeError` when the address cannot be bound.
    public func run() async throws {
        let listener: any Channel
        do {
            listener = try await bind()
        } catch {
            let failure = RuntimeError(
                code: .transportError, message: "cannot listen on \(configuration.host):\(configuration.port): \(error)"
            )
            binding.settle(.failure(failure))
            throw failure
        }
        let port = listener.localAddress?.port ?? configuration.port
        binding.settle(.success(port))
        logger.debug("grpc listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])

        let connections = self.connections
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await listener.closeFuture.get()
            } onGracefulShutdown: {
                listener.close(promise: nil)
                connections.stop(.gracefully)
            }
            connections.stop(.gracefully)  // in case the listener closed by itself
            await connections.waitUntilAllClosed()
        } onCancel: {
            listener.close(promise: nil)
            connections.stop(.immediately)
        }
        logger.debug("grpc stopped")
    }

    private func bind() async throws -> any Channel {
        let address = try SocketAddress(ipAddress: configuration.host, port: configuration.port)
        let service = self.service
        let maximumRequestBytes = configuration.maximumRequestBytes
        let connections = self.connections
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try Self.configureConnection(channel, service: service, maximumRequestBytes: maximumRequestBytes)
                }
            }
            .bind(to: address)
            .get()
    }

    /// Sets up one connection's pipeline: HTTP/2 (streams of ``GRPCStreamHandler``), NIO's
    /// connection manager (GOAWAY on `ChannelShouldQuiesceEvent`, close once the streams are
    /// done), and the opening of the connection window.
    private static func configureConnection(_ channel: any Channel, service: FeaturesService, maximumRequestBytes: Int) throws {
        var connectionConfiguration = NIOHTTP2Handler.ConnectionConfiguration()
        connectionConfiguration.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 256),
            HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
            HTTP2Setting(parameter: .initialWindowSize, value: windowBytes),
            HTTP2Setting(parameter: .maxFrameSize, value: maximumFrameBytes),
        ]
        connectionConfiguration.targetWindowSize = windowBytes
        var streamConfiguration = NIOHTTP2Handler.StreamConfiguration()
        streamConfiguration.targetWindowSize = windowBytes
        let manager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: nil, maxAge: nil, maxGraceTime: .seconds(30), keepalive: nil)
        )
        let http2 = NIOHTTP2Handler(
            mode: .server, eventLoop: channel.eventLoop, connectionConfiguration: connectionConfiguration,
            streamConfiguration: streamConfiguration, streamDelegate: manager.http2StreamDelegate
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(GRPCStreamHandler(service: service, maximumRequestBytes: maximumRequestBytes))
            }
        }
        try channel.pipeline.syncOperations.addHandlers([http2, manager, ConnectionWindowOpener(targetBytes: windowBytes)])
    }
}
