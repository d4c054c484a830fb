import CremaAggregation
import CremaEngine
import CremaStorage

/// A read request as HTTP and gRPC both carry it (DESIGN.md, "Serving").
public struct FeatureRequest: Sendable {
    /// The features of one broadcast entity (the user) read alongside the candidates.
    public struct Broadcast: Sendable {
        /// The broadcast entity's name.
        public var entity: String
        /// Its id (one part, or several for a cohort).
        public var id: [EntityKeyPart]
        /// The features to read.
        public var features: [String]

        /// Creates a broadcast part.
        public init(entity: String, id: [EntityKeyPart], features: [String]) {
            self.entity = entity
            self.id = id
            self.features = features
        }
    }

    /// The candidates' entity.
    public var entity: String
    /// The candidates' ids, each one part or several for a cohort.
    public var ids: EntityIDs
    /// The features to read for every id.
    public var features: [String]
    /// The broadcast part, if any.
    public var broadcast: Broadcast?
    /// The read time in epoch ms; nil reads at the server clock.
    public var at: Int64?

    /// Creates a request with ids given as key parts.
    public init(entity: String, ids: [[EntityKeyPart]], features: [String], broadcast: Broadcast? = nil, at: Int64? = nil) {
        self.init(entity: entity, ids: .parts(ids), features: features, broadcast: broadcast, at: at)
    }

    /// Creates a request.
    public init(entity: String, ids: EntityIDs, features: [String], broadcast: Broadcast? = nil, at: Int64? = nil) {
        self.entity = entity
        self.ids = ids
        self.features = features
        self.broadcast = broadcast
        self.at = at
    }
}

/// The answer to a `FeatureRequest`: one column per feature, in request order.
public struct FeatureResponse: Sendable {
    /// The requested features' names and columns, one value per id.
    public var columns: [(name: String, column: FeatureColumn)]
    /// The broadcast features' names and values.
    public var broadcast: [(name: String, value: FeatureValue)]
}

/// Answers feature reads from the engine; HTTP and gRPC both go through it.
public struct FeatureService: Sendable {
    /// The most ids one request may ask for.
    public static let maximumIDs = 100_000

    /// The engine read from.
    public let engine: Engine

    /// Creates the service.
    public init(engine: Engine) {
        self.engine = engine
    }

    /// Reads the request's features; a bad request (unknown entity or feature, a feature of
    /// another entity, an id of the wrong shape, too many ids) throws `.badRequest` naming it.
    /// - Complexity: O(ids × features).
    public func get(_ request: FeatureRequest) throws(EngineError) -> FeatureResponse {
        guard request.ids.count <= Self.maximumIDs else {
            throw EngineError(.badRequest, "too many ids: \(request.ids.count); at most \(Self.maximumIDs) per request")
        }
        // One read time for the candidates and the broadcast entity.
        let time = request.at ?? engine.now
        let references = try engine.resolve(features: request.features, of: request.entity)
        if references.isEmpty {
            try engine.validate(ids: request.ids, of: request.entity)
        }
        let columns = try engine.read(ids: request.ids, features: references, at: time)
        var broadcast: [(name: String, value: FeatureValue)] = []
        if let part = request.broadcast {
            let broadcastReferences = try engine.resolve(features: part.features, of: part.entity)
            if broadcastReferences.isEmpty {
                try engine.validate(ids: .parts([part.id]), of: part.entity) { _ in "broadcast.id" }
            }
            let values = try engine.read(ids: [part.id], features: broadcastReferences, at: time) { _ in "broadcast.id" }
            broadcast = zip(part.features, values).map { ($0, $1[0]) }
        }
        return FeatureResponse(columns: Array(zip(request.features, columns)).map { ($0, $1) }, broadcast: broadcast)
    }
}
