import CremaAggregation
import CremaEngine
import CremaStorage
import NIOHTTP1
import NIOPosix

/// The HTTP API's request handling as plain functions: a method, a target and a body in,
/// a complete response out. `HTTPHandler` only carries bytes; tests call this directly.
///
/// Reads run on a `NIOThreadPool` (they may hit RocksDB); `POST /v1/events` awaits the
/// engine's group commit. Neither runs on an event loop.
struct HTTPAPI: Sendable {
    /// The feature reads.
    let service: FeatureService
    /// Decodes `POST /v1/events` lines.
    let decoder: EventDecoder
    /// Where request counts, latencies and batch sizes go.
    let metrics: CremaMetrics
    /// Where blocking reads run.
    let threadPool: NIOThreadPool
    /// `max_line` for `POST /v1/events`, in bytes.
    let maximumLineLength: Int

    /// Creates the API over `engine`.
    init(engine: Engine, metrics: CremaMetrics, threadPool: NIOThreadPool, maximumLineLength: Int = 1 << 20) {
        service = FeatureService(engine: engine)
        decoder = EventDecoder(spec: engine.spec)
        self.metrics = metrics
        self.threadPool = threadPool
        self.maximumLineLength = maximumLineLength
    }

    /// Answers one request; never throws: every failure is an error response.
    func respond(method: HTTPMethod, uri: String, body: [UInt8]) async -> HTTPResponse {
        let start = ContinuousClock.now
        let response: HTTPResponse
        var label = "unmatched"
        do throws(HTTPError) {
            let route = try Route(method: method, uri: uri)
            label = route.label
            response = try await respond(to: route, body: body)
        } catch {
            response = .error(error)
        }
        metrics.recordRequest(route: label, status: Int(response.status.code), duration: .now - start)
        return response
    }

    private func respond(to route: Route, body: [UInt8]) async throws(HTTPError) -> HTTPResponse {
        switch route {
        case .health:
            var writer = JSONWriter()
            writer.raw("{\"status\":\"ok\"}")
            return .json(writer)
        case .metrics:
            return HTTPResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.render())
        case .specs:
            return .json(SpecDocument.write(service.engine.spec))
        case .features:
            return try await readFeatures(body)
        case .entityFeatures(let entity, let id):
            return try await readEntity(entity, id: id)
        case .events:
            return try await ingest(body)
        }
    }

    /// Runs `work` on the thread pool, mapping engine errors to HTTP errors.
    private func offEventLoop<Value: Sendable>(_ work: @escaping @Sendable () throws(EngineError) -> Value) async throws(HTTPError) -> Value {
        do {
            return try await threadPool.runIfActive { try work() }
        } catch let error as EngineError {
            throw HTTPError(error)
        } catch {
            throw HTTPError(.serviceUnavailable, "the server is shutting down")
        }
    }

    // MARK: Routes

    /// `POST /v1/features`: `{"ids": <echoed>, "features": {name: [values]}, "broadcast": {name: value}}`.
    func readFeatures(_ body: [UInt8]) async throws(HTTPError) -> HTTPResponse {
        let parsed = try FeatureRequestParser.parse(body)
        metrics.recordBatchSize(route: Route.features.label, ids: parsed.request.ids.count)
        let service = self.service
        let request = parsed.request
        let response = try await offEventLoop { () throws(EngineError) in try service.get(request) }
        let cellCount = request.ids.count * max(request.features.count, 1)
        var writer = JSONWriter(capacity: parsed.idsRange.count + cellCount * 6 + 256)
        writer.raw("{")
        writer.key("ids", isFirst: true)
        body.withUnsafeBytes { writer.raw(UnsafeRawBufferPointer(rebasing: $0[parsed.idsRange])) }
        writer.key("features", isFirst: false)
        writer.raw("{")
        for (index, column) in response.columns.enumerated() {
            writer.key(column.name, isFirst: index == 0)
            writer.column(column.column)
        }
        writer.raw("}")
        if request.broadcast != nil {
            writer.key("broadcast", isFirst: false)
            writer.raw("{")
            for (index, entry) in response.broadcast.enumerated() {
                writer.key(entry.name, isFirst: index == 0)
                writer.value(entry.value)
            }
            writer.raw("}")
        }
        writer.raw("}")
        return .json(writer)
    }

    /// `GET /v1/features/{entity}/{id}`: `{"entity", "id", "features": {name: value}}` over
    /// every feature of the entity. The id is echoed as a string, or as the array for a cohort.
    func readEntity(_ entity: String, id text: String) async throws(HTTPError) -> HTTPResponse {
        let id = try FeatureRequestParser.parsePathID(text)
        metrics.recordBatchSize(route: Route.entityFeatures(entity: "", id: "").label, ids: 1)
        let engine = service.engine
        let (names, values) = try await offEventLoop { () throws(EngineError) in
            let features = try engine.allFeatures(of: entity)
            let columns = try engine.read(ids: [id], features: features) { _ in "id" }
            return (features.map(\.name), columns.map { $0[0] })
        }
        var writer = JSONWriter(capacity: 64 + names.count * 32)
        writer.raw("{")
        writer.key("entity", isFirst: true)
        writer.string(entity)
        writer.key("id", isFirst: false)
        if text.first == "[" {
            writer.raw("[")
            for (index, part) in id.enumerated() {
                writer.separator(isFirst: index == 0)
                switch part {
                case .int(let number): writer.int(number)
                case .string(let string): writer.string(string)
                }
            }
            writer.raw("]")
        } else {
            writer.string(text)
        }
        writer.key("features", isFirst: false)
        writer.raw("{")
        for (index, (name, value)) in zip(names, values).enumerated() {
            writer.key(name, isFirst: index == 0)
            writer.value(value)
        }
        writer.raw("}}")
        return .json(writer)
    }

    /// `POST /v1/events`: decodes the NDJSON body, submits one batch, and answers once it is
    /// durable with `{"ack", "accepted", "rejected", "duplicates", "late", "errors": [{"line", "error"}]}`.
    func ingest(_ body: [UInt8]) async throws(HTTPError) -> HTTPResponse {
        let lines = try EventBody(body, decoder: decoder, maximumLineLength: maximumLineLength)
        var outcome = IngestOutcome()
        if !lines.batch.events.isEmpty {
            do {
                outcome = try await service.engine.submit(lines.batch)
            } catch let error as EngineError {
                throw HTTPError(error)
            } catch {
                throw HTTPError(.internalServerError, "ingest failed: \(error)")
            }
        }
        metrics.recordEventsAcknowledged(rejectedLines: lines.errors.count)
        var errors = lines.errors
        errors += outcome.rejections.map { EventBody.LineError(line: $0.line, message: $0.message) }
        errors.sort { $0.line < $1.line }
        var writer = JSONWriter(capacity: 128 + errors.count * 64)
        writer.raw("{")
        writer.key("ack", isFirst: true)
        writer.int(Int64(lines.lineCount))
        writer.key("accepted", isFirst: false)
        writer.int(Int64(outcome.accepted))
        writer.key("rejected", isFirst: false)
        writer.int(Int64(errors.count))
        writer.key("duplicates", isFirst: false)
        writer.int(Int64(outcome.duplicates))
        writer.key("late", isFirst: false)
        writer.int(Int64(outcome.late))
        writer.key("errors", isFirst: false)
        writer.raw("[")
        for (index, error) in errors.enumerated() {
            writer.separator(isFirst: index == 0)
            writer.raw("{")
            writer.key("line", isFirst: true)
            writer.int(Int64(error.line))
            writer.key("error", isFirst: false)
            writer.string(error.message)
            writer.raw("}")
        }
        writer.raw("]}")
        return .json(writer)
    }
}
