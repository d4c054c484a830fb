import CoreMetrics
import CremaEngine
import CremaIngest
import CremaStorage
import Metrics
import Prometheus
import Synchronization

/// Crema's metrics: swift-metrics instruments backed by a swift-prometheus registry, plus
/// engine, ingest and RocksDB figures sampled when `/metrics` is scraped.
///
/// The command line creates one, calls `bootstrapMetricsSystem()` once (so that libraries
/// using the global `MetricsSystem` report into the same registry), and hands it to the
/// `HTTPServer`. Tests create their own without bootstrapping anything global.
///
/// Exposed (Prometheus names):
/// - `crema_http_requests_total{route, status}`, `crema_http_request_duration_seconds{route}`
///   (histogram), `crema_read_ids{route}` (histogram of ids per read request, `route` is
///   `grpc Features/Get` for gRPC);
/// - `crema_grpc_requests_total{method, code}`, `crema_grpc_request_duration_seconds{method}`
///   (histogram, when the gRPC server is given these metrics);
/// - `crema_ingest_events_total{outcome="accepted|rejected|duplicate|late"}` (rejected: lines
///   refused while decoding, over the socket and `POST /v1/events`, plus the engine's
///   rejections), `crema_ingest_acks_total` (ack lines and answered `POST /v1/events`),
///   `crema_engine_commits_total`, `crema_engine_checkpoints_total`,
///   `crema_engine_rows_written_total` and `crema_engine_checkpoint_seconds_total` (by checkpoints;
///   the second's rate is the share of the writer's time spent writing rows),
///   `crema_engine_rows_expired_total` (swept from memory), `crema_engine_rows_in_memory`,
///   `crema_engine_row_memory_estimate_bytes` (what `--cache-size` bounds);
/// - `crema_ingest_connections_total`, `crema_ingest_connections_open`,
///   `crema_ingest_lines_total`, `crema_ingest_bytes_total` (when ingest statistics are given);
/// - `crema_rocksdb_estimate_num_keys`, `crema_rocksdb_block_cache_usage_bytes`,
///   `crema_rocksdb_memtable_bytes`, `crema_rocksdb_live_sst_bytes` (all column families),
///   `crema_rocksdb_block_cache_hits_total`, `crema_rocksdb_block_cache_misses_total`
///   (when a database is given).
public final class CremaMetrics: Sendable {
    /// The registry every metric is kept in; `/metrics` renders it.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory writing into `registry`.
    public let factory: PrometheusMetricsFactory

    private let engine: Engine
    private let database: Database?
    private let ingestStatistics: (@Sendable () -> IngestStatistics)?
    /// Totals already added to the sampled counters (Prometheus counters only go up by deltas).
    private let reported = Mutex<[String: Int64]>([:])
    /// Samples taken one at a time, so that deltas are never added twice.
    private let sampling = Mutex(())
    /// Lines of `POST /v1/events` bodies refused while decoding.
    private let rejectedHTTPLines = Atomic<Int>(0)
    /// `POST /v1/events` requests answered with their summary.
    private let httpAcks = Atomic<Int>(0)

    /// The histogram buckets of request latencies: 100 µs to 10 s.
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    /// The histogram buckets of ids per read request: 1 to 100,000.
    static let batchSizeBuckets: [Double] = [1, 10, 100, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000]

    /// Creates the metrics of one server.
    /// - Parameters:
    ///   - engine: sampled for event totals, commits and rows in memory.
    ///   - database: sampled for RocksDB properties and tickers, if given.
    ///   - ingestStatistics: the ingest server's counters (`{ ingestServer.statistics }`), if any.
    ///   - registry: where metrics are kept; a new one by default.
    public init(
        engine: Engine, database: Database? = nil, ingestStatistics: (@Sendable () -> IngestStatistics)? = nil,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) {
        self.engine = engine
        self.database = database
        self.ingestStatistics = ingestStatistics
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["crema_http_request_duration_seconds"] = Self.latencyBuckets
        factory.durationHistogramBuckets["crema_grpc_request_duration_seconds"] = Self.latencyBuckets
        factory.valueHistogramBuckets["crema_read_ids"] = Self.batchSizeBuckets
        self.factory = factory
    }

    /// Makes this registry the process-wide swift-metrics backend. Call it once, at startup.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(factory)
    }

    /// Records one answered request.
    func recordRequest(route: String, status: Int, duration: Duration) {
        CoreMetrics.Counter(label: "crema_http_requests_total", dimensions: [("route", route), ("status", String(status))], factory: factory)
            .increment()
        CoreMetrics.Timer(label: "crema_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(Self.nanoseconds(duration))
    }

    /// Records one answered gRPC call; `code` is its status code's name (`ok`, `invalidArgument`…).
    func recordRPC(method: String, code: String, duration: Duration) {
        CoreMetrics.Counter(label: "crema_grpc_requests_total", dimensions: [("method", method), ("code", code)], factory: factory)
            .increment()
        CoreMetrics.Timer(label: "crema_grpc_request_duration_seconds", dimensions: [("method", method)], factory: factory)
            .recordNanoseconds(Self.nanoseconds(duration))
    }

    /// Records one `POST /v1/events` answered with its summary, and its lines refused while decoding.
    func recordEventsAcknowledged(rejectedLines: Int) {
        httpAcks.add(1, ordering: .relaxed)
        rejectedHTTPLines.add(rejectedLines, ordering: .relaxed)
    }

    /// Records the number of ids one read asked for.
    func recordBatchSize(route: String, ids: Int) {
        CoreMetrics.Recorder(label: "crema_read_ids", dimensions: [("route", route)], aggregate: true, factory: factory)
            .record(ids)
    }

    /// Samples the engine, ingest and RocksDB figures, then renders the registry in the
    /// Prometheus text exposition format.
    /// - Complexity: O(number of metrics), plus RocksDB's statistics report.
    func render() -> [UInt8] {
        sampling.withLock { _ in sample() }
        return registry.emitToBuffer()
    }

    private func sample() {
        let counters = engine.statistics
        let ingest = ingestStatistics?() ?? IngestStatistics()
        let rejectedLines = ingest.rejectedLines + rejectedHTTPLines.load(ordering: .relaxed)
        addTotal("crema_ingest_events_total", [("outcome", "accepted")], counters.accepted)
        addTotal("crema_ingest_events_total", [("outcome", "rejected")], counters.rejected + rejectedLines)
        addTotal("crema_ingest_events_total", [("outcome", "duplicate")], counters.duplicates)
        addTotal("crema_ingest_events_total", [("outcome", "late")], counters.late)
        addTotal("crema_ingest_acks_total", [], ingest.acks + httpAcks.load(ordering: .relaxed))
        addTotal("crema_engine_commits_total", [], counters.commits)
        addTotal("crema_engine_checkpoints_total", [], counters.checkpoints)
        addTotal("crema_engine_rows_written_total", [], counters.rowsWritten)
        addSecondsTotal("crema_engine_checkpoint_seconds_total", counters.checkpointTime)
        addTotal("crema_engine_rows_expired_total", [], counters.expiredRows)
        setGauge("crema_engine_rows_in_memory", engine.rowsInMemory)
        setGauge("crema_engine_row_memory_estimate_bytes", engine.estimatedRowMemory)
        if ingestStatistics != nil {
            addTotal("crema_ingest_connections_total", [], ingest.connectionsAccepted)
            setGauge("crema_ingest_connections_open", ingest.connectionsOpen)
            addTotal("crema_ingest_lines_total", [], ingest.lines)
            addTotal("crema_ingest_bytes_total", [], ingest.bytes)
        }
        if let database {
            if let keys = database.intProperty("rocksdb.estimate-num-keys", in: .rows) {
                setGauge("crema_rocksdb_estimate_num_keys", Int(clamping: keys))
            }
            if let usage = database.intProperty("rocksdb.block-cache-usage") {
                setGauge("crema_rocksdb_block_cache_usage_bytes", Int(clamping: usage))
            }
            let summed = [
                ("crema_rocksdb_memtable_bytes", "rocksdb.cur-size-all-mem-tables"),
                ("crema_rocksdb_live_sst_bytes", "rocksdb.live-sst-files-size"),
            ]
            for (metric, property) in summed {
                let total = ColumnFamily.allCases.reduce(UInt64(0)) { $0 &+ (database.intProperty(property, in: $1) ?? 0) }
                setGauge(metric, Int(clamping: total))
            }
            let tickers = Self.tickers(in: database.statistics() ?? "", named: ["rocksdb.block.cache.hit", "rocksdb.block.cache.miss"])
            if let hits = tickers["rocksdb.block.cache.hit"] { addTotal("crema_rocksdb_block_cache_hits_total", [], Int(clamping: hits)) }
            if let misses = tickers["rocksdb.block.cache.miss"] { addTotal("crema_rocksdb_block_cache_misses_total", [], Int(clamping: misses)) }
        }
    }

    /// Brings a sampled counter up to `total` by adding what it has not reported yet.
    private func addTotal(_ name: String, _ dimensions: [(String, String)], _ total: Int) {
        let delta = unreported(name + dimensions.map { "|\($0.0)=\($0.1)" }.joined(), total: Int64(total))
        CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory).increment(by: delta)
    }

    /// Brings a sampled counter of seconds up to `total` (kept to the nanosecond).
    private func addSecondsTotal(_ name: String, _ total: Duration) {
        let delta = unreported(name, total: Self.nanoseconds(total))
        CoreMetrics.FloatingPointCounter(label: name, factory: factory).increment(by: Double(delta) / 1_000_000_000)
    }

    /// `duration` in whole nanoseconds.
    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    /// What of `total` the counter `key` has not reported yet, now recorded as reported.
    private func unreported(_ key: String, total: Int64) -> Int64 {
        reported.withLock { reported -> Int64 in
            let delta = total - (reported[key] ?? 0)
            if delta > 0 { reported[key] = total }
            return max(delta, 0)
        }
    }

    private func setGauge(_ name: String, _ value: Int) {
        CoreMetrics.Gauge(label: name, factory: factory).record(value)
    }

    /// The values of the tickers `names` in a RocksDB statistics report
    /// (lines reading `<name> COUNT : <value>`).
    /// - Complexity: O(report length).
    static func tickers(in report: String, named names: Set<String>) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in report.split(separator: "\n") {
            guard let separator = line.firstRange(of: " COUNT : ") else { continue }
            let name = String(line[..<separator.lowerBound])
            guard names.contains(name) else { continue }
            values[name] = UInt64(line[separator.upperBound...].prefix { $0.isNumber })
        }
        return values
    }
}
