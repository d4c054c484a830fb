import CremaEngine
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOPosix
import ServiceLifecycle

/// The gRPC read API (DESIGN.md, "Serving"): `crema.v1.Features/Get` over HTTP/2 in
/// plaintext, on grpc-swift's NIO transport.
///
/// Runs as a `Service`: on graceful shutdown it stops accepting connections and RPCs, lets
/// the RPCs in progress finish, and returns; cancellation stops it at once.
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

    private let configuration: Configuration
    private let transport: HTTP2ServerTransport.Posix
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let logger: Logger

    /// Creates a server; it listens once `run()` is called.
    /// - Parameters:
    ///   - engine: What reads go to.
    ///   - metrics: Where each call's status, latency and number of ids are recorded, if given.
    ///   - threadPool: Where reads and column encoding run, off the cooperative pool.
    public init(
        configuration: Configuration, engine: Engine, metrics: CremaMetrics? = nil, threadPool: NIOThreadPool = .singleton,
        logger: Logger = Logger(label: "crema.grpc")
    ) {
        self.configuration = configuration
        let address: GRPCNIOTransportCore.SocketAddress = configuration.host.contains(":")
            ? .ipv6(host: configuration.host, port: configuration.port)
            : .ipv4(host: configuration.host, port: configuration.port)
        var transportConfiguration = HTTP2ServerTransport.Posix.Config.defaults
        transportConfiguration.rpc.maxRequestPayloadSize = configuration.maximumRequestBytes
        transport = .http2NIOPosix(address: address, transportSecurity: .plaintext, config: transportConfiguration)
        server = GRPCServer(transport: transport, services: [FeaturesService(engine: engine, metrics: metrics, threadPool: threadPool)])
        self.logger = logger
    }

    /// The port the server listens on (the actual one when configured with port 0), once
    /// `run()` has bound it.
    /// - Throws: `RuntimeError` when binding failed or the server has stopped.
    public func boundPort() async throws -> Int {
        let address = try await transport.listeningAddress
        if let ipv4 = address.ipv4 { return ipv4.port }
        if let ipv6 = address.ipv6 { return ipv6.port }
        throw RuntimeError(code: .transportError, message: "the gRPC server listens on \(address), which has no port")
    }

    /// Listens and serves until graceful shutdown (then finishes the RPCs in progress) or
    /// cancellation.
    /// - Throws: `RuntimeError` when the address cannot be bound or the transport fails.
    public func run() async throws {
        logger.debug("grpc starting", metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)"])
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            self.server.beginGracefulShutdown()
        }
        logger.debug("grpc stopped")
    }
}
