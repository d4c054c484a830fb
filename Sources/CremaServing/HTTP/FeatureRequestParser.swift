import CremaEngine
import CremaStorage

/// A `POST /v1/features` body, parsed: the request for `FeatureService` and where the
/// `ids` array sits in the body, so the response can echo it byte for byte.
struct ParsedFeatureRequest {
    /// The request to run.
    var request: FeatureRequest
    /// The byte range of the `ids` array (from `[` through `]`) in the body.
    var idsRange: Range<Int>
}

/// Parses read requests from JSON bytes with the engine's `JSONScanner` (no Foundation).
///
/// Rules, beyond DESIGN.md:
/// - The body is one JSON object, valid UTF-8; its keys are `entity`, `ids`, `features`,
///   and optionally `broadcast` and `at`. Any other key, or a key given twice, is a 400:
///   a misspelt optional key would otherwise be silently ignored.
/// - An id is a string, an integer, or (a cohort) an array of strings and integers.
///   Floats, booleans, null, objects and nested arrays are refused naming the id's index.
/// - `at` is an integer (epoch ms); `broadcast` is `{"entity", "id", "features"}`.
enum FeatureRequestParser {
    /// Parses a `POST /v1/features` body.
    /// - Throws: `HTTPError` (400) naming the first problem found.
    /// - Complexity: O(body length).
    static func parse(_ body: [UInt8]) throws(HTTPError) -> ParsedFeatureRequest {
        let result = body.withUnsafeBytes { bytes -> Result<ParsedFeatureRequest, HTTPError> in
            if let offset = firstInvalidUTF8Offset(in: bytes) {
                return .failure(.badRequest("invalid UTF-8 at byte \(offset + 1)"))
            }
            var scanner = JSONScanner(bytes)
            do throws(EventDecodingError) {
                return .success(try parseRequest(&scanner))
            } catch {
                return .failure(.badRequest(error.message))
            }
        }
        return try result.get()
    }

    private static func parseRequest(_ scanner: inout JSONScanner) throws(EventDecodingError) -> ParsedFeatureRequest {
        guard scanner.peekAfterWhitespace() == UInt8(ascii: "{") else {
            throw problem(scanner.bytes.isEmpty ? "the request body is empty; expected a JSON object" : "the request body must be a JSON object")
        }
        var entity: String?
        var ids: (EntityIDs, Range<Int>)?
        var features: [String]?
        var broadcast: FeatureRequest.Broadcast?
        var time: Int64?
        var seen: Set<String> = []
        try forEachMember(of: &scanner) { (key: String, scanner: inout JSONScanner) throws(EventDecodingError) in
            guard seen.insert(key).inserted else { throw problem("duplicate key \"\(key)\"") }
            switch key {
            case "entity": entity = try stringValue(&scanner, name: "entity")
            case "ids": ids = try idList(&scanner)
            case "features": features = try stringList(&scanner, name: "features")
            case "broadcast": broadcast = try broadcastValue(&scanner)
            case "at": time = try integerValue(&scanner, name: "at", expectation: "integer epoch milliseconds")
            default: throw problem("unknown key \"\(key)\"; expected entity, ids, features, broadcast or at")
            }
        }
        guard scanner.isAtEndAfterWhitespace() else { throw scanner.syntaxError("unexpected data after the object") }
        guard let entity else { throw problem("missing \"entity\"") }
        guard let ids else { throw problem("missing \"ids\"") }
        guard let features else { throw problem("missing \"features\"") }
        let request = FeatureRequest(entity: entity, ids: ids.0, features: features, broadcast: broadcast, at: time)
        return ParsedFeatureRequest(request: request, idsRange: ids.1)
    }

    /// Parses one id given as text, as in a `GET /v1/features/{entity}/{id}` path: a JSON
    /// array (a cohort id) when it starts with `[`, otherwise the text itself as one key part
    /// (the engine converts digits for an int key).
    /// - Throws: `HTTPError` (400) when an array form is not a valid cohort id.
    static func parsePathID(_ text: String) throws(HTTPError) -> [EntityKeyPart] {
        guard text.first == "[" else { return [.string(text)] }
        let bytes = Array(text.utf8)
        let result = bytes.withUnsafeBytes { buffer -> Result<[EntityKeyPart], HTTPError> in
            var scanner = JSONScanner(buffer)
            do throws(EventDecodingError) {
                let id = try idValue(&scanner, name: "id")
                guard scanner.isAtEndAfterWhitespace() else { throw scanner.syntaxError("unexpected data after the id") }
                return .success(id)
            } catch {
                return .failure(.badRequest(error.message))
            }
        }
        return try result.get()
    }

    // MARK: Values

    private static func problem(_ message: String) -> EventDecodingError {
        EventDecodingError(code: .mistypedField, message: message)
    }

    /// Calls `body` with each key of the object at the scanner, positioned at its value.
    private static func forEachMember(
        of scanner: inout JSONScanner,
        _ body: (String, inout JSONScanner) throws(EventDecodingError) -> Void
    ) throws(EventDecodingError) {
        try scanner.expect(UInt8(ascii: "{"), "'{'")
        if scanner.consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = scanner.string(try scanner.scanString())
            try scanner.expect(UInt8(ascii: ":"), "':'")
            try body(key, &scanner)
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
    }

    private static func stringValue(_ scanner: inout JSONScanner, name: String) throws(EventDecodingError) -> String {
        guard scanner.peekAfterWhitespace() == UInt8(ascii: "\"") else {
            throw mistyped(scanner, name: name, expectation: "a string")
        }
        return scanner.string(try scanner.scanString())
    }

    private static func integerValue(_ scanner: inout JSONScanner, name: String, expectation: String) throws(EventDecodingError) -> Int64 {
        let start = scanner.position
        guard let byte = scanner.peekAfterWhitespace(), byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
            throw mistyped(scanner, name: name, expectation: expectation)
        }
        let token = try scanner.scanNumber()
        guard token.isInteger, let value = scanner.int64(token) else {
            throw problem("\(name): expected \(expectation), got \(scanner.describeValue(at: start))")
        }
        return value
    }

    private static func mistyped(_ scanner: JSONScanner, name: String, expectation: String) -> EventDecodingError {
        problem("\(name): expected \(expectation), got \(scanner.describeValue(at: scanner.position))")
    }

    private static func stringList(_ scanner: inout JSONScanner, name: String) throws(EventDecodingError) -> [String] {
        guard scanner.peekAfterWhitespace() == UInt8(ascii: "[") else {
            throw mistyped(scanner, name: name, expectation: "an array of strings")
        }
        scanner.position += 1
        var values: [String] = []
        if scanner.consume(UInt8(ascii: "]")) { return values }
        repeat {
            values.append(try stringValue(&scanner, name: "\(name)[\(values.count)]"))
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "]"), "',' or ']'")
        return values
    }

    /// The `ids` array and its byte range. Ids that are all strings stay one packed array of
    /// texts; the first other id turns them into key parts.
    private static func idList(_ scanner: inout JSONScanner) throws(EventDecodingError) -> (EntityIDs, Range<Int>) {
        guard scanner.peekAfterWhitespace() == UInt8(ascii: "[") else {
            throw mistyped(scanner, name: "ids", expectation: "an array of ids")
        }
        let start = scanner.position
        scanner.position += 1
        var texts = PackedTexts()
        var parts: [[EntityKeyPart]]?
        if !scanner.consume(UInt8(ascii: "]")) {
            repeat {
                let name = "ids[\(parts?.count ?? texts.count)]"
                if parts == nil, scanner.peekAfterWhitespace() == UInt8(ascii: "\"") {
                    texts.append(scanner.string(try scanner.scanString()))
                    continue
                }
                if parts == nil { parts = texts.map { [.string($0)] } }
                parts!.append(try idValue(&scanner, name: name))
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"), "',' or ']'")
        }
        return (parts.map(EntityIDs.parts) ?? .texts(texts), start..<scanner.position)
    }

    /// One id: a key part, or an array of key parts (a cohort id).
    private static func idValue(_ scanner: inout JSONScanner, name: String) throws(EventDecodingError) -> [EntityKeyPart] {
        guard scanner.peekAfterWhitespace() == UInt8(ascii: "[") else {
            return [try keyPart(&scanner, name: name, expectation: "a string, an integer or an array of them (a cohort id)")]
        }
        scanner.position += 1
        var parts: [EntityKeyPart] = []
        if scanner.consume(UInt8(ascii: "]")) { throw problem("\(name): a cohort id cannot be empty") }
        repeat {
            parts.append(try keyPart(&scanner, name: "\(name)[\(parts.count)]", expectation: "a string or an integer"))
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "]"), "',' or ']'")
        return parts
    }

    private static func keyPart(_ scanner: inout JSONScanner, name: String, expectation: String) throws(EventDecodingError) -> EntityKeyPart {
        switch scanner.peekAfterWhitespace() {
        case UInt8(ascii: "\""):
            return .string(scanner.string(try scanner.scanString()))
        case let byte? where byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte):
            return .int(try integerValue(&scanner, name: name, expectation: expectation))
        default:
            throw mistyped(scanner, name: name, expectation: expectation)
        }
    }

    private static func broadcastValue(_ scanner: inout JSONScanner) throws(EventDecodingError) -> FeatureRequest.Broadcast {
        guard scanner.peekAfterWhitespace() == UInt8(ascii: "{") else {
            throw mistyped(scanner, name: "broadcast", expectation: "an object with entity, id and features")
        }
        var entity: String?
        var id: [EntityKeyPart]?
        var features: [String]?
        var seen: Set<String> = []
        try forEachMember(of: &scanner) { (key: String, scanner: inout JSONScanner) throws(EventDecodingError) in
            guard seen.insert(key).inserted else { throw problem("broadcast: duplicate key \"\(key)\"") }
            switch key {
            case "entity": entity = try stringValue(&scanner, name: "broadcast.entity")
            case "id": id = try idValue(&scanner, name: "broadcast.id")
            case "features": features = try stringList(&scanner, name: "broadcast.features")
            default: throw problem("broadcast: unknown key \"\(key)\"; expected entity, id and features")
            }
        }
        guard let entity else { throw problem("broadcast: missing \"entity\"") }
        guard let id else { throw problem("broadcast: missing \"id\"") }
        guard let features else { throw problem("broadcast: missing \"features\"") }
        return FeatureRequest.Broadcast(entity: entity, id: id, features: features)
    }
}
