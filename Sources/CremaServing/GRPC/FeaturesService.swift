import CremaAggregation
import CremaEngine
import CremaStorage
import GRPCCore
import NIOCore
import NIOPosix

/// `crema.v1.Features/Get` (Protos/crema/v1/features.proto): the request is turned into a
/// ``FeatureRequest``, read through ``FeatureService`` and answered with one packed column
/// per feature (``GetResponseWriter``, ``ColumnEncoder``).
///
/// The read and the encoding run on a `NIOThreadPool`, off the cooperative pool. Errors:
/// an id with no kind, or an `EngineError` `.badRequest` (unknown entity or feature, a
/// feature of another entity, an id of the wrong shape, too many ids), is
/// `INVALID_ARGUMENT` with a message naming it; an engine shutting down is `UNAVAILABLE`;
/// anything else is `INTERNAL`.
struct FeaturesService: Sendable {
    /// The feature reads.
    let service: FeatureService
    /// The column layout of every served feature, by name (`group.aggregate_window`).
    let layouts: [String: ColumnLayout]
    /// Where reads and encoding run.
    let threadPool: NIOThreadPool
    /// Where each call is recorded, if anywhere.
    let metrics: CremaMetrics?

    /// Creates the service over `engine`, deriving the layouts of the engine's spec once.
    /// - Complexity: O(features of the spec).
    init(engine: Engine, metrics: CremaMetrics? = nil, threadPool: NIOThreadPool = .singleton) {
        service = FeatureService(engine: engine)
        var layouts: [String: ColumnLayout] = [:]
        for group in engine.spec.groups {
            for aggregate in group.aggregates {
                let layout = ColumnLayout(
                    operation: aggregate.operation, fieldNames: aggregate.fieldNames, fieldTypes: aggregate.fieldTypes
                )
                for featureName in aggregate.featureNames {
                    layouts["\(group.name).\(featureName)"] = layout
                }
            }
        }
        self.layouts = layouts
        self.threadPool = threadPool
        self.metrics = metrics
    }

    /// Reads and encodes the answer to `request`, whose text ids are `textIDs`, synchronously.
    /// - Returns: The gRPC message of the `GetResponse` (``GetResponseWriter``).
    /// - Throws: `RPCError`.
    func answer(_ request: Crema_V1_GetRequest, textIDs: PackedTexts) throws(RPCError) -> ByteBuffer {
        let featureRequest = try Self.featureRequest(request, textIDs: textIDs)
        let read: FeatureResponse
        do {
            read = try service.get(featureRequest)
        } catch {
            throw Self.rpcError(error)
        }
        var writer = GetResponseWriter()
        do {
            try writer.setIDs(request.ids)
            for column in read.columns {
                try writer.appendColumn(name: column.name, layout: try layout(of: column.name), column: column.column)
            }
            for entry in read.broadcast {
                try writer.appendBroadcast(name: entry.name, layout: try layout(of: entry.name), column: .boxed([entry.value]))
            }
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .internalError, message: "cannot encode the GetResponse: \(error)")
        }
        return writer.message()
    }

    /// The column layout of feature `name`.
    private func layout(of name: String) throws(RPCError) -> ColumnLayout {
        guard let layout = layouts[name] else {
            throw RPCError(code: .internalError, message: "no column layout for feature \"\(name)\"")
        }
        return layout
    }

    /// The read a `GetRequest` with text ids `textIDs` asks for; an id (or composite part) with no kind is
    /// `INVALID_ARGUMENT` naming it (`ids[3]`, `ids[3].composite.parts[1]`, `broadcast.id`).
    /// - Complexity: O(ids).
    static func featureRequest(_ request: Crema_V1_GetRequest, textIDs: PackedTexts) throws(RPCError) -> FeatureRequest {
        let kinds = [!request.ids.isEmpty, !textIDs.isEmpty, !request.numberIds.isEmpty].filter { $0 }.count
        guard kinds <= 1 else {
            throw RPCError(code: .invalidArgument, message: "set at most one of ids, text_ids and number_ids")
        }
        let ids: EntityIDs
        if !textIDs.isEmpty {
            ids = .texts(textIDs)
        } else if !request.numberIds.isEmpty {
            ids = .numbers(request.numberIds)
        } else {
            var parts: [[EntityKeyPart]] = []
            parts.reserveCapacity(request.ids.count)
            for (index, id) in request.ids.enumerated() {
                parts.append(try keyParts(of: id, name: "ids[\(index)]"))
            }
            ids = .parts(parts)
        }
        var broadcast: FeatureRequest.Broadcast?
        if request.hasBroadcast {
            let part = request.broadcast
            guard part.hasID else {
                throw RPCError(code: .invalidArgument, message: "broadcast.id is missing")
            }
            broadcast = FeatureRequest.Broadcast(
                entity: part.entity, id: try keyParts(of: part.id, name: "broadcast.id"), features: part.features
            )
        }
        return FeatureRequest(
            entity: request.entity, ids: ids, features: request.features, broadcast: broadcast,
            at: request.hasAt ? request.at : nil
        )
    }

    /// The key parts of one id: one for text or number, one per part for a composite.
    private static func keyParts(of id: Crema_V1_EntityId, name: String) throws(RPCError) -> [EntityKeyPart] {
        switch id.kind {
        case .text(let text):
            return [.string(text)]
        case .number(let number):
            return [.int(number)]
        case .composite(let composite):
            var parts: [EntityKeyPart] = []
            parts.reserveCapacity(composite.parts.count)
            for (index, part) in composite.parts.enumerated() {
                switch part.kind {
                case .text(let text): parts.append(.string(text))
                case .number(let number): parts.append(.int(number))
                case nil:
                    throw RPCError(
                        code: .invalidArgument, message: "\(name).composite.parts[\(index)] has no kind: set text or number"
                    )
                }
            }
            return parts
        case nil:
            throw RPCError(code: .invalidArgument, message: "\(name) has no kind: set text, number or composite")
        }
    }

    /// The gRPC status of an engine error: a bad request is `INVALID_ARGUMENT`, an engine
    /// shutting down `UNAVAILABLE`, anything else (storage, corruption) `INTERNAL`.
    static func rpcError(_ error: EngineError) -> RPCError {
        switch error.code {
        case .badRequest: return RPCError(code: .invalidArgument, message: error.message)
        case .unavailable: return RPCError(code: .unavailable, message: error.message)
        default: return RPCError(code: .internalError, message: error.message)
        }
    }
}
