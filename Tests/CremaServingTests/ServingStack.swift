import CremaEngine
import CremaIngest
import CremaSpec
import CremaStorage
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Synchronization

@testable import CremaServing

/// The whole read and write path of one server: a real engine over RocksDB in a temp
/// directory of its own, with the ingest, HTTP and gRPC servers listening on 127.0.0.1 port 0.
struct ServingStack {
    /// The engine every server shares.
    let engine: Engine
    /// Where producers connect.
    let ingestAddress: IngestAddress
    /// The HTTP server's port.
    let httpPort: Int
    /// A gRPC client of the gRPC server.
    let grpc: Crema_V1_Features.Client<HTTP2ClientTransport.Posix>

    /// Runs `body` against a fresh stack whose server clock always reads `now`, then stops
    /// the servers and the engine and removes the directory.
    static func with(specText: String, now: Int64, _ body: (ServingStack) async throws -> Void) async throws {
        try await withTestEngine(specText: specText, now: now) { engine, database in
            try await serve(engine: engine, database: database, body)
        }
    }

    /// Runs the three servers over `engine` for the duration of `body`.
    private static func serve(engine: Engine, database: Database, _ body: (ServingStack) async throws -> Void) async throws {
        let spec = engine.spec
        let ingest = IngestServer(
            configuration: IngestServer.Configuration(address: .tcp(host: "127.0.0.1", port: 0)), spec: spec, sink: engine,
            logger: Logger(label: "crema.serving.tests")
        )
        let http = HTTPServer(
            configuration: HTTPServer.Configuration(host: "127.0.0.1", port: 0), engine: engine,
            metrics: CremaMetrics(engine: engine, database: database)
        )
        let grpc = GRPCFeatureServer(configuration: GRPCFeatureServer.Configuration(host: "127.0.0.1", port: 0), engine: engine)
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Void.self) { group in
            // A server stopped by cancellation may throw; binding failures surface through the bound-address waiters.
            group.addTask { try? await ingest.run() }
            group.addTask { try? await http.run() }
            group.addTask { try? await grpc.run() }
            let outcome: Result<Void, any Error>
            do {
                let ingestAddress = try await ingest.boundAddress()
                let httpPort = try await http.boundPort()
                let transport = try HTTP2ClientTransport.Posix.http2NIOPosix(
                    target: .ipv4(address: "127.0.0.1", port: try await grpc.boundPort()), transportSecurity: .plaintext
                )
                try await withGRPCClient(transport: transport) { client in
                    try await body(ServingStack(
                        engine: engine, ingestAddress: ingestAddress, httpPort: httpPort, grpc: Crema_V1_Features.Client(wrapping: client)
                    ))
                }
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            group.cancelAll()
            return outcome
        }
        try outcome.get()
    }

    /// Sends `chunks` of NDJSON through the ingest socket as one connection (with a hello
    /// when `producer` is given), reporting each ack's line number to `acknowledged`.
    func send(
        _ chunks: AsyncStream<[UInt8]>, producer: String? = nil, acknowledged: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws -> IngestClient.Summary {
        try await IngestClient(address: ingestAddress, producer: producer).send(chunks) { progress in
            acknowledged(progress.acknowledgedLine)
        }
    }

    /// Sends `lines` through the ingest socket, a hundred lines a chunk.
    func send(lines: [String]) async throws -> IngestClient.Summary {
        try await send(ServingStack.chunks(of: lines, linesPerChunk: 100))
    }

    /// `lines` as NDJSON byte chunks of `linesPerChunk` lines each, all ready at once.
    static func chunks(of lines: [String], linesPerChunk: Int) -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            for start in stride(from: 0, to: lines.count, by: linesPerChunk) {
                continuation.yield(ndjson(lines[start..<min(start + linesPerChunk, lines.count)]))
            }
            continuation.finish()
        }
    }

    /// The NDJSON bytes of `lines`, each ended by a newline.
    static func ndjson(_ lines: some Sequence<String>) -> [UInt8] {
        Array(lines.map { $0 + "\n" }.joined().utf8)
    }

    /// Posts a `POST /v1/features` body.
    func postFeatures(_ body: String) async throws -> TestResponse {
        try await HTTPTestClient.request(port: httpPort, "POST", "/v1/features", body: body)
    }
}

/// Runs `body` with a real engine over RocksDB in a temp directory of its own, its clock always
/// reading `now`; then shuts the engine down, closes the database and removes the directory.
func withTestEngine(specText: String, now: Int64, _ body: (Engine, Database) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("crema-serving-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let spec = try SpecCompiler.compile(sources: [(file: "spec.yaml", text: specText)]).get()
    let database = try Database(path: directory)
    defer { database.close() }
    var configuration = EngineConfiguration()
    configuration.clock = { now }
    let engine = try Engine(spec: spec, database: database, configuration: configuration)
    defer { engine.shutdown() }
    try await body(engine, database)
}

/// JSON text helpers for request bodies.
enum JSONText {
    /// `text` as a JSON string literal (the test data needs no escapes beyond quotes and backslashes).
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A JSON array of string literals.
    static func strings(_ texts: [String]) -> String {
        "[" + texts.map(quoted).joined(separator: ", ") + "]"
    }

    /// The parsed JSON object of a response body.
    static func object(_ response: TestResponse) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed]) as? [String: Any] else {
            throw TestClientError.closed
        }
        return object
    }
}

/// An integer that concurrent tasks share (a `Mutex` cannot be captured by escaping closures).
final class SharedCounter: Sendable {
    private let current = Mutex(0)

    /// The value now.
    var value: Int { current.withLock { $0 } }

    /// Raises the value to `candidate` if that is larger.
    func raise(to candidate: Int) {
        current.withLock { $0 = max($0, candidate) }
    }

    /// Adds one and returns the new value.
    func increment() -> Int {
        current.withLock { value in
            value += 1
            return value
        }
    }
}
