import CremaEngine
import CremaSpec
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The NDJSON ingest socket: accepts producer connections on TCP or a Unix socket, decodes
/// their lines and hands batches to an `IngestSink`, acknowledging each once it is durable.
///
/// Runs as a `Service`: on graceful shutdown or cancellation it stops accepting, lets each
/// connection settle and ack what it has decoded, closes them, and returns.
public final class IngestServer: Service, Sendable {
    /// What the server listens on and the limits of each connection.
    public struct Configuration: Sendable {
        /// Where to listen.
        public var address: IngestAddress
        /// The longest line accepted, in bytes, excluding the newline (`max_line`).
        public var maximumLineLength = 1 << 20
        /// The most events in one batch handed to the sink.
        public var maximumBatchEvents = 4096
        /// The most raw event bytes in one batch handed to the sink.
        public var maximumBatchBytes = 4 << 20

        /// Creates a configuration with the default limits.
        public init(address: IngestAddress) {
            self.address = address
        }
    }

    private let configuration: Configuration
    private let decoder: EventDecoder
    private let sink: any IngestSink
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let counters = IngestCounters()
    private let connections = ConnectionRegistry()
    private let binding = ListenerBinding<IngestAddress>()

    /// Creates a server; it listens once `run()` is called.
    public init(
        configuration: Configuration, spec: CompiledSpec, sink: any IngestSink,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) {
        self.configuration = configuration
        self.decoder = EventDecoder(spec: spec)
        self.sink = sink
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// The server's counters now.
    public var statistics: IngestStatistics { counters.snapshot }

    /// The address the server listens on (with the actual port when configured with port 0),
    /// once `run()` has bound it.
    /// - Throws: `IngestError` when binding failed.
    public func boundAddress() async throws -> IngestAddress {
        try await binding.value()
    }

    /// Listens and serves until graceful shutdown or cancellation, then drains the connections.
    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await bind()
        } catch {
            let failure = IngestError(code: .connectionFailed, message: "cannot listen on \(configuration.address): \(error)")
            binding.settle(.failure(failure))
            throw failure
        }
        let address = boundAddress(of: channel)
        binding.settle(.success(address))
        logger.debug("ingest listening", metadata: ["address": "\(address)"])

        await serveUntilShutdown(channel) { self.beginShutdown(channel) }
        await connections.waitUntilEmpty()
        if case .unix(let path) = configuration.address { unlink(path) }
        logger.debug("ingest stopped")
    }

    private func bind() async throws -> any Channel {
        let connectionConfiguration = IngestConnection.Configuration(
            maximumLineLength: configuration.maximumLineLength,
            maximumBatchEvents: configuration.maximumBatchEvents,
            maximumBatchBytes: configuration.maximumBatchBytes)
        let decoder = self.decoder
        let sink = self.sink
        let counters = self.counters
        let connections = self.connections
        let logger = self.logger
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = IngestHandler(
                        connection: IngestConnection(decoder: decoder, configuration: connectionConfiguration),
                        sink: sink, counters: counters, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    counters.connectionsAccepted.add(1, ordering: .relaxed)
                    counters.connectionsOpen.add(1, ordering: .relaxed)
                    let isShuttingDown = connections.add(channel)
                    channel.closeFuture.whenComplete { _ in
                        counters.connectionsOpen.subtract(1, ordering: .relaxed)
                        connections.remove(channel)
                    }
                    if isShuttingDown {
                        channel.pipeline.fireUserInboundEventTriggered(IngestDrainEvent())
                    }
                }
            }
        switch configuration.address {
        case .tcp(let host, let port):
            return try await bootstrap.bind(host: host, port: port).get()
        case .unix(let path):
            return try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        }
    }

    private func boundAddress(of channel: any Channel) -> IngestAddress {
        switch configuration.address {
        case .tcp(let host, let port):
            return .tcp(host: host, port: channel.localAddress?.port ?? port)
        case .unix:
            return configuration.address
        }
    }

    /// Stops accepting and asks every open connection to drain (idempotent).
    private func beginShutdown(_ channel: any Channel) {
        channel.close(promise: nil)
        for connection in connections.beginShutdown() {
            connection.pipeline.fireUserInboundEventTriggered(IngestDrainEvent())
        }
    }
}

/// The open connections of a server, so shutdown can drain them and wait for them to close.
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var isShuttingDown = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Registers a connection; returns whether shutdown has already begun.
    func add(_ channel: any Channel) -> Bool {
        state.withLock { state in
            state.channels[ObjectIdentifier(channel)] = channel
            return state.isShuttingDown
        }
    }

    /// Forgets a closed connection, waking waiters when none is left.
    func remove(_ channel: any Channel) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.channels[ObjectIdentifier(channel)] = nil
            guard state.channels.isEmpty else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Marks shutdown as begun (once); returns the connections to drain.
    func beginShutdown() -> [any Channel] {
        state.withLock { state in
            guard !state.isShuttingDown else { return [] }
            state.isShuttingDown = true
            return Array(state.channels.values)
        }
    }

    /// Returns once no connection is open.
    func waitUntilEmpty() async {
        await withCheckedContinuation { continuation in
            let isEmpty = state.withLock { state in
                if state.channels.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if isEmpty { continuation.resume() }
        }
    }
}
