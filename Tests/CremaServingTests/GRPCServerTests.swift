import CremaEngine
import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import ServiceLifecycle
import Testing

@testable import CremaServing

/// The gRPC server's protocol and lifecycle, through grpc-swift's client and a raw HTTP/2
/// client (NIO's), against a real server.
@Suite("gRPC server protocol and lifecycle")
struct GRPCServerTests {
    /// One valid request: `video_stats.views_1d` of v1 (3 views).
    static let validRequest = GRPCFixture.request("video", [GRPCFixture.text("v1")], ["video_stats.views_1d"])

    @Test("an unknown method is UNIMPLEMENTED, and the connection still serves Get")
    func unknownMethod() async throws {
        try await GRPCFixture.withRunningServer { server, _, _ in
            let transport = try HTTP2ClientTransport.Posix.http2NIOPosix(
                target: .ipv4(address: "127.0.0.1", port: try await server.boundPort()), transportSecurity: .plaintext
            )
            try await withGRPCClient(transport: transport) { client in
                let error = await #expect(throws: RPCError.self) {
                    try await client.unary(
                        request: ClientRequest(message: Self.validRequest),
                        descriptor: MethodDescriptor(fullyQualifiedService: "crema.v1.Features", method: "Put"),
                        serializer: ProtobufSerializer<Crema_V1_GetRequest>(),
                        deserializer: ProtobufDeserializer<Crema_V1_GetResponse>(),
                        options: .defaults
                    ) { try $0.message }
                }
                #expect(error?.code == .unimplemented)
                #expect(error?.message.contains("/crema.v1.Features/Put") == true, "\(error?.message ?? "")")

                let response = try await Crema_V1_Features.Client(wrapping: client).get(Self.validRequest)
                #expect(ColumnDecoder.values(of: try #require(response.columns.first)) == [.int(3)])
            }
        }
    }

    @Test("a request message over maximumRequestBytes is RESOURCE_EXHAUSTED, and the connection still serves")
    func oversizedRequest() async throws {
        var configuration = GRPCFeatureServer.Configuration(host: "127.0.0.1", port: 0)
        configuration.maximumRequestBytes = 1_000
        try await GRPCFixture.withServer(configuration: configuration) { client, _, metrics in
            let ids = (0..<20_000).map { GRPCFixture.text("v\($0)") }  // about 200 kB, more than one window of 64 KiB
            let error = await #expect(throws: RPCError.self) {
                try await client.get(GRPCFixture.request("video", ids, ["video_stats.views_1d"]))
            }
            #expect(error?.code == .resourceExhausted)
            #expect(error?.message.contains("limit of 1000 bytes") == true, "\(error?.message ?? "")")

            let response = try await client.get(Self.validRequest)
            #expect(ColumnDecoder.values(of: try #require(response.columns.first)) == [.int(3)])
            let text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(text.contains(#"crema_grpc_requests_total{method="Features/Get",code="ok"} 1"#), "refused before the handler: not counted")
        }
    }

    @Test("graceful shutdown stops accepting, finishes the call in flight, then run() returns")
    func gracefulShutdownFinishesTheCallInFlight() async throws {
        let held = HeldThreadPool()
        try await withTestEngine(specText: GRPCFixture.specText, now: GRPCFixture.now) { engine, _ in
            try await GRPCFixture.submit(GRPCFixture.events, to: engine)
            let metrics = CremaMetrics(engine: engine)
            let server = GRPCFeatureServer(
                configuration: GRPCFeatureServer.Configuration(host: "127.0.0.1", port: 0), engine: engine, metrics: metrics,
                threadPool: held.pool
            )
            let group = ServiceGroup(services: [server], logger: Logger(label: "crema.grpc.tests"))
            let stopped = SharedCounter()
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    try await group.run()
                    _ = stopped.increment()
                }
                let port = try await server.boundPort()
                let transport = try HTTP2ClientTransport.Posix.http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext
                )
                try await withGRPCClient(transport: transport) { client in
                    let features = Crema_V1_Features.Client(wrapping: client)
                    async let inFlight = features.get(Self.validRequest)
                    try await waitUntil { String(decoding: metrics.render(), as: UTF8.self).contains(#"crema_read_ids_sum{route="grpc Features/Get"} 1"#) }

                    await group.triggerGracefulShutdown()
                    try await waitUntil { await isRefused(port: port) }  // stops accepting
                    #expect(stopped.value == 0, "run() waits for the call in flight")

                    held.release()
                    let response = try await inFlight
                    #expect(ColumnDecoder.values(of: try #require(response.columns.first)) == [.int(3)])
                }
                try await tasks.waitForAll()
            }
            #expect(stopped.value == 1)
        }
        try await held.pool.shutdownGracefully()
    }

    @Test("grpc-timeout: a call whose answer is late is DEADLINE_EXCEEDED")
    func deadline() async throws {
        let held = HeldThreadPool()
        try await GRPCFixture.withRunningServer(threadPool: held.pool) { server, _, _ in
            var headers = RawHTTP2Client.requestHeaders
            headers.add(name: "grpc-timeout", value: "50m")
            let response = try await RawHTTP2Client.send(
                port: try await server.boundPort(), headers: headers, data: [RawHTTP2Client.framed(Self.validRequest)]
            )
            #expect(response.status == "4", "\(response.headers)")
            held.release()
        }
        try await held.pool.shutdownGracefully()
    }

    @Test("a message split over many DATA frames: HEADERS, one prefixed response, trailers grpc-status 0")
    func rawSuccess() async throws {
        try await GRPCFixture.withRunningServer { server, _, _ in
            let message = RawHTTP2Client.framed(Self.validRequest)
            let frames = (0..<message.readableBytes).map { message.getSlice(at: $0, length: 1)! }
            let response = try await RawHTTP2Client.send(port: try await server.boundPort(), headers: RawHTTP2Client.requestHeaders, data: frames)
            #expect(response.headers.count == 2)
            #expect(response.headers.first?.first(name: ":status") == "200")
            #expect(response.headers.first?.first(name: "content-type") == "application/grpc")
            #expect(response.status == "0")
            var body = response.body
            #expect(body.readInteger(as: UInt8.self) == 0)
            #expect(body.readInteger(as: UInt32.self).map(Int.init) == body.readableBytes)
            let decoded = try Crema_V1_GetResponse(serializedBytes: body.readableBytesSpan)
            #expect(ColumnDecoder.values(of: try #require(decoded.columns.first)) == [.int(3)])
            #expect(response.reset == nil)
        }
    }

    @Test("raw HTTP/2 requests the server refuses, each with its status", arguments: [
        ("compressed flag", "13"),
        ("unknown message flags", "13"),
        ("gzip encoding", "12"),
        ("unknown path", "12"),
        ("no message", "12"),
        ("two messages", "12"),
        ("stream ends inside a message", "13"),
        ("bytes that are not a GetRequest", "13"),
        ("malformed grpc-timeout", "13"),
        ("content-type not gRPC", "415"),
        ("content-type of gRPC-Web", "415"),
        ("GET", "405"),
    ])
    func rawRefusals(problem: String, expected: String) async throws {
        try await GRPCFixture.withRunningServer { server, _, _ in
            var headers = RawHTTP2Client.requestHeaders
            var message = RawHTTP2Client.framed(Self.validRequest)
            var data = [message]
            switch problem {
            case "compressed flag":
                message.setInteger(UInt8(1), at: message.readerIndex)
                data = [message]
            case "unknown message flags":
                message.setInteger(UInt8(4), at: message.readerIndex)
                data = [message]
            case "gzip encoding":
                headers.add(name: "grpc-encoding", value: "gzip")
            case "unknown path":
                headers = RawHTTP2Client.requestHeaders(path: "/crema.v1.Features/Get%C3%A9")
            case "no message":
                data = []
            case "two messages":
                data = [message, message]
            case "stream ends inside a message":
                data = [message.getSlice(at: message.readerIndex, length: message.readableBytes - 1)!]
            case "bytes that are not a GetRequest":
                data = [ByteBuffer(bytes: [0, 0, 0, 0, 2, 0xFF, 0xFF])]
            case "malformed grpc-timeout":
                headers.add(name: "grpc-timeout", value: "10x")
            case "content-type not gRPC":
                headers = RawHTTP2Client.requestHeaders(contentType: "application/json")
            case "content-type of gRPC-Web":
                headers = RawHTTP2Client.requestHeaders(contentType: "application/grpc-web")
            default:
                headers = RawHTTP2Client.requestHeaders(method: "GET")
            }
            let port = try await server.boundPort()
            let response = try await RawHTTP2Client.send(port: port, headers: headers, data: data)
            #expect(response.headers.count == 1, "trailers-only: \(response.headers)")
            if expected.count == 3 {
                #expect(response.headers.first?.first(name: ":status") == expected)
                #expect(response.status == nil)
            } else {
                #expect(response.headers.first?.first(name: ":status") == "200")
                #expect(response.headers.first?.first(name: "content-type") == "application/grpc")
                #expect(response.status == expected, "\(response.headers)")
            }
            switch problem {
            case "gzip encoding":
                #expect(response.headers.first?.first(name: "grpc-accept-encoding") == "identity")
            case "unknown path":
                #expect(response.headers.first?.first(name: "grpc-message")?.contains("Get%25C3%25A9") == true, "\(response.headers)")
            default:
                break
            }
            #expect(response.body.readableBytes == 0)

            let after = try await RawHTTP2Client.send(port: port, headers: RawHTTP2Client.requestHeaders, data: [RawHTTP2Client.framed(Self.validRequest)])
            #expect(after.status == "0", "the server still serves")
        }
    }

    @Test("grpc-timeout units, and grpc-message percent-encoding")
    func headerValues() {
        #expect(GRPCUnaryStateMachine.timeout("100m") == .milliseconds(100))
        #expect(GRPCUnaryStateMachine.timeout("99999999S") == .seconds(99_999_999))
        #expect(GRPCUnaryStateMachine.timeout("2H") == .hours(2))
        #expect(GRPCUnaryStateMachine.timeout("5n") == .nanoseconds(5))
        #expect(GRPCUnaryStateMachine.timeout("123456789S") == nil, "at most 8 digits")
        #expect(GRPCUnaryStateMachine.timeout("S") == nil)
        #expect(GRPCUnaryStateMachine.timeout("-1S") == nil)
        #expect(GRPCUnaryStateMachine.Refusal.percentEncoded("ids[0] 100% \"é\"\n") == "ids[0] 100%25 \"%C3%A9\"%0A")
    }
}

/// A thread pool of one thread, held by a blocking work item until `release()`, so that a
/// read submitted to it waits.
final class HeldThreadPool: Sendable {
    /// The pool (started).
    let pool = NIOThreadPool(numberOfThreads: 1)
    private let gate = DispatchSemaphore(value: 0)

    /// Starts the pool and holds its thread.
    init() {
        pool.start()
        let gate = self.gate
        pool.submit { _ in gate.wait() }
    }

    /// Lets the thread go.
    func release() {
        gate.signal()
    }
}

/// Polls `condition` every 10 ms until it holds, for up to 10 s.
func waitUntil(_ condition: () async -> Bool) async throws {
    for _ in 0..<1_000 {
        if await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("waited 10 s")
}

/// Whether a TCP connection to 127.0.0.1:`port` is refused (one that is made is closed at once).
func isRefused(port: Int) async -> Bool {
    do {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get().close()
        return false
    } catch {
        return true
    }
}

/// An HTTP/2 client of one request at a time, frame by frame, over a new connection (NIO's
/// HTTP/2 handler): what a gRPC client would send, and what it must not.
enum RawHTTP2Client {
    /// The frames of a response.
    struct Response: Sendable {
        /// Each HEADERS frame's block, in order.
        var headers: [HPACKHeaders] = []
        /// The DATA bytes.
        var body = ByteBuffer()
        /// The RST_STREAM error code, if the server reset the stream.
        var reset: HTTP2ErrorCode?

        /// The `grpc-status` of the last HEADERS frame.
        var status: String? { headers.last?.first(name: "grpc-status") }
    }

    /// A gRPC request's headers for `Features/Get`.
    static let requestHeaders = requestHeaders()

    /// Request headers, pseudo-headers first (as HTTP/2 wants them).
    static func requestHeaders(
        method: String = "POST", path: String = GRPCUnaryStateMachine.path, contentType: String = "application/grpc"
    ) -> HPACKHeaders {
        [
            ":method": method, ":scheme": "http", ":path": path, ":authority": "127.0.0.1", "content-type": contentType,
            "te": "trailers",
        ]
    }

    /// `request` as a length-prefixed message.
    static func framed(_ request: Crema_V1_GetRequest) -> ByteBuffer {
        let bytes: [UInt8] = try! request.serializedBytes()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return buffer
    }

    /// Sends `headers` and one DATA frame per element of `data` (the last, or the headers if
    /// there is none, with END_STREAM), and returns the response once the stream is closed.
    static func send(port: Int, headers: HPACKHeaders, data: [ByteBuffer]) async throws -> Response {
        // HTTP/2 goes into the pipeline before the connection is active, so the server's preface is not missed.
        let (connection, multiplexer) = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let multiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                    ) { $0.eventLoop.makeSucceededVoidFuture() }
                    return (channel, multiplexer)
                }
            }
        let closed = connection.eventLoop.makePromise(of: Response.self)
        let stream = try await multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture { try stream.pipeline.syncOperations.addHandler(ResponseCollector(closed: closed)) }
        }.get()
        stream.write(HTTP2Frame.FramePayload.headers(.init(headers: headers, endStream: data.isEmpty)), promise: nil)
        for (index, buffer) in data.enumerated() {
            stream.write(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(buffer), endStream: index == data.count - 1)), promise: nil)
        }
        stream.flush()
        let response = try await closed.futureResult.get()
        try await connection.close()
        return response
    }

    /// Gathers a stream's response frames until the stream closes.
    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame.FramePayload

        private var response = Response()
        private let closed: EventLoopPromise<Response>

        init(closed: EventLoopPromise<Response>) {
            self.closed = closed
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .headers(let headers): response.headers.append(headers.headers)
            case .data(let data): if case .byteBuffer(var bytes) = data.data { response.body.writeBuffer(&bytes) }
            case .rstStream(let code): response.reset = code
            default: break
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.succeed(response)
        }
    }
}
