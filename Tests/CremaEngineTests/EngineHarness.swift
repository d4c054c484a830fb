import CremaAggregation
import CremaEngine
import CremaSpec
import CremaStorage
import Foundation
import Synchronization
import Testing

/// A settable server clock for tests.
final class TestClock: Sendable {
    private let current: Mutex<Int64>

    init(_ start: Int64) { current = Mutex(start) }

    var now: Int64 {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

/// A real engine on a real RocksDB in a temp directory of its own, with a test clock.
final class EngineHarness {
    let directory: URL
    let clock: TestClock
    private(set) var spec: CompiledSpec
    private(set) var engine: Engine!
    private(set) var database: Database!

    /// How long the engine keeps raw events (ms).
    let retainEvents: Int64
    /// The longest wall-clock time between checkpoints.
    let checkpointInterval: Duration
    /// The engine's `rowMemoryBudget` and `checkpointRows`.
    let rowMemoryBudget: Int?
    let checkpointRows: Int

    init(
        spec yaml: String, now: Int64 = 1_763_900_000_000, retainEvents: Int64 = 7 * 86_400_000,
        checkpointInterval: Duration = .seconds(2), rowMemoryBudget: Int? = nil, checkpointRows: Int = 50_000
    ) throws {
        self.retainEvents = retainEvents
        self.checkpointInterval = checkpointInterval
        self.rowMemoryBudget = rowMemoryBudget
        self.checkpointRows = checkpointRows
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("crema-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        clock = TestClock(now)
        spec = try Self.compile(yaml)
        try open()
    }

    deinit {
        engine?.shutdown()
        engine = nil
        database = nil
        try? FileManager.default.removeItem(at: directory)
    }

    static func compile(_ yaml: String) throws -> CompiledSpec {
        try SpecCompiler.compile(sources: [(file: "test.yaml", text: yaml)]).get()
    }

    private func open() throws {
        let clock = clock
        database = try Database(path: directory.path, rowFilter: Engine.expiredRowFilter(spec: spec, clock: { clock.now }))
        var configuration = EngineConfiguration()
        configuration.clock = { clock.now }
        configuration.retainEvents = retainEvents
        configuration.checkpointInterval = checkpointInterval
        configuration.rowMemoryBudget = rowMemoryBudget
        configuration.checkpointRows = checkpointRows
        engine = try Engine(spec: spec, database: database, configuration: configuration)
    }

    /// Stops the engine, closes the database and opens both again, optionally on a new spec.
    func restart(spec yaml: String? = nil) throws {
        engine.shutdown()
        engine = nil
        database = nil
        if let yaml { spec = try Self.compile(yaml) }
        try open()
    }

    /// Decodes NDJSON lines (numbered from 1) and submits them as one batch.
    @discardableResult
    func send(_ lines: [String], producer: String? = nil) async throws -> IngestOutcome {
        let decoder = EventDecoder(spec: spec)
        var batch = IngestBatch(producer: producer)
        for (offset, line) in lines.enumerated() {
            let bytes = Array(line.utf8)
            let event = try decoder.decode(line: bytes, lineNumber: offset + 1, expectsSequence: producer != nil).get()
            batch.append(event, line: bytes)
        }
        return try await engine.submit(batch)
    }

    /// Reads features of ids (string keys) at `at`, one column per feature.
    func read(_ entity: String, _ ids: [String], _ features: [String], at: Int64? = nil) throws -> [[FeatureValue]] {
        let references = try engine.resolve(features: features, of: entity)
        return try engine.read(ids: ids.map { [.string($0)] }, features: references, at: at).map(\.values)
    }

    /// Reads one feature of one id.
    func value(_ entity: String, _ id: String, _ feature: String, at: Int64? = nil) throws -> FeatureValue {
        try read(entity, [id], [feature], at: at)[0][0]
    }
}
