import NIOHTTP1

/// What a request asks for, resolved from its method and path.
///
/// Paths are matched segment by segment on the part before `?` (the query is ignored);
/// each segment is percent-decoded after splitting, so `%2F` inside an id stays in the id.
/// A cohort id in `GET /v1/features/{entity}/{id}` is its JSON array, URL-encoded:
/// `/v1/features/country_category/%5B%22US%22%2C%22music%22%5D`.
enum Route: Equatable {
    /// `GET /healthz`.
    case health
    /// `GET /metrics`.
    case metrics
    /// `GET /v1/specs`.
    case specs
    /// `POST /v1/features`.
    case features
    /// `GET /v1/features/{entity}/{id}`, the id still as text.
    case entityFeatures(entity: String, id: String)
    /// `POST /v1/events`.
    case events

    /// The route's label in metrics (the path pattern).
    var label: String {
        switch self {
        case .health: "/healthz"
        case .metrics: "/metrics"
        case .specs: "/v1/specs"
        case .features: "/v1/features"
        case .entityFeatures: "/v1/features/{entity}/{id}"
        case .events: "/v1/events"
        }
    }

    /// The method the route answers.
    var method: HTTPMethod {
        switch self {
        case .health, .metrics, .specs, .entityFeatures: .GET
        case .features, .events: .POST
        }
    }

    /// Resolves a request target.
    /// - Throws: `HTTPError` 404 for an unknown path, 405 (with the allowed method) for a
    ///   known path asked with another method, 400 for a bad percent-encoding.
    init(method: HTTPMethod, uri: String) throws(HTTPError) {
        let path = uri.prefix { $0 != "?" && $0 != "#" }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let route: Route
        switch segments.count > 1 && segments[0].isEmpty ? Array(segments.dropFirst()) : [] {
        case ["healthz"]: route = .health
        case ["metrics"]: route = .metrics
        case ["v1", "specs"]: route = .specs
        case ["v1", "features"]: route = .features
        case ["v1", "events"]: route = .events
        case let parts where parts.count == 4 && parts[0] == "v1" && parts[1] == "features" && !parts[2].isEmpty && !parts[3].isEmpty:
            guard let entity = Self.percentDecoded(parts[2]), let id = Self.percentDecoded(parts[3]) else {
                throw .badRequest("invalid percent-encoding in \(path)")
            }
            route = .entityFeatures(entity: entity, id: id)
        default:
            throw HTTPError(.notFound, "no such path: \(path)")
        }
        guard route.method == method else {
            throw HTTPError(.methodNotAllowed, "\(path) takes \(route.method.rawValue), not \(method.rawValue)", allowing: route.method)
        }
        self = route
    }

    /// A path segment with `%XX` escapes decoded, or nil when an escape is malformed or the
    /// result is not UTF-8.
    /// - Complexity: O(n).
    static func percentDecoded(_ segment: Substring) -> String? {
        guard segment.contains("%") else { return String(segment) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segment.utf8.count)
        var iterator = segment.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
