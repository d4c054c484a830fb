import CremaAggregation
import CremaSpec

/// Decodes NDJSON event lines straight from their bytes into `DecodedEvent`s, checked
/// against the spec's event schemas. Used by the ingest socket, `POST /v1/events` and log replay.
///
/// Rules, beyond the JSON grammar (RFC 8259):
/// - The line is one JSON object (surrounding whitespace allowed) and valid UTF-8 throughout.
/// - `type` names an event type of the spec. `seq`, when present, is a positive integer
///   (required when `expectsSequence`); it is recorded only when `expectsSequence`.
///   `producer` is reserved for the connection's hello and refused in events.
/// - Keys not in the schema are skipped whatever their value (nesting up to 64 levels).
///   A key that appears twice is an error (no "last wins" surprises).
/// - A required field missing or null is an error; an optional one reads as `.null`.
/// - `int`: a number without fraction or exponent within 64 bits; `float`: any number
///   that is finite as a double; `vector[N]`: exactly N numbers, finite as float32;
///   the time field: integer epoch milliseconds or an RFC 3339 string.
public struct EventDecoder: Sendable {
    /// The roles a top-level key can have besides naming a field (field roles are ≥ 0).
    private enum Role {
        static let time = -1
        static let type = -2
        static let sequence = -3
        static let producer = -4
        static let count = 4
    }

    /// One event type, compiled for decoding (a class: a decode retains it once, not each of
    /// its arrays).
    private final class CompiledEvent: Sendable {
        let keys: KeyTable
        let fields: [EventField]
        let timeField: String?

        init(keys: KeyTable, fields: [EventField], timeField: String?) {
            self.keys = keys
            self.fields = fields
            self.timeField = timeField
        }
    }

    private let events: [CompiledEvent]
    private let eventTypes: KeyTable

    /// Compiles the key tables of every event type of `spec`.
    /// - Complexity: O(total number of fields).
    public init(spec: CompiledSpec) {
        events = spec.events.map { schema in
            var entries: [(name: String, value: Int)] = [("type", Role.type), ("seq", Role.sequence), ("producer", Role.producer)]
            if let time = schema.timeField { entries.append((time, Role.time)) }
            for (index, field) in schema.fields.enumerated() { entries.append((field.name, index)) }
            return CompiledEvent(keys: KeyTable(entries), fields: schema.fields, timeField: schema.timeField)
        }
        eventTypes = KeyTable(spec.events.enumerated().map { ($0.element.name, $0.offset) })
    }

    /// Decodes one line (without its newline).
    ///
    /// - Parameters:
    ///   - line: the line's bytes.
    ///   - lineNumber: recorded in the event, for error reports.
    ///   - expectsSequence: whether the connection has a producer, so `seq` is required.
    /// - Complexity: O(line length).
    public func decode(line: UnsafeRawBufferPointer, lineNumber: Int, expectsSequence: Bool) -> Result<DecodedEvent, EventDecodingError> {
        do throws(EventDecodingError) {
            return .success(try decodeEvent(line, lineNumber: lineNumber, expectsSequence: expectsSequence))
        } catch {
            return .failure(error)
        }
    }

    /// Decodes one line held in an array (without its newline).
    /// - Complexity: O(line length).
    public func decode(line: [UInt8], lineNumber: Int, expectsSequence: Bool) -> Result<DecodedEvent, EventDecodingError> {
        line.withUnsafeBytes { decode(line: $0, lineNumber: lineNumber, expectsSequence: expectsSequence) }
    }

    private func decodeEvent(_ line: UnsafeRawBufferPointer, lineNumber: Int, expectsSequence: Bool) throws(EventDecodingError) -> DecodedEvent {
        if let offset = firstInvalidUTF8Offset(in: line) {
            throw EventDecodingError(code: .invalidUTF8, message: "invalid UTF-8 at byte \(offset + 1)")
        }
        var scanner = JSONScanner(line)
        guard scanner.peekAfterWhitespace() == UInt8(ascii: "{") else {
            throw EventDecodingError(code: .notAnObject, message: "not a JSON object")
        }
        let objectStart = scanner.position
        let eventIndex = try findEventType(&scanner)
        let event = events[eventIndex]
        scanner.position = objectStart + 1

        var fields = [FieldValue](repeating: .null, count: event.fields.count)
        var time: Int64?
        var sequence: UInt64 = 0
        let seenCount = event.fields.count + Role.count
        try withUnsafeTemporaryAllocation(of: Bool.self, capacity: seenCount) { (seen: UnsafeMutableBufferPointer<Bool>) throws(EventDecodingError) in
            seen.initialize(repeating: false)
            if scanner.consume(UInt8(ascii: "}")) { return }
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':'")
                guard let role = lookUp(key, in: event.keys, scanner: scanner) else {
                    try scanner.skipValue()
                    continue
                }
                let seenIndex = role >= 0 ? role : event.fields.count + (-role - 1)
                if seen[seenIndex] {
                    throw EventDecodingError(code: .duplicateKey, message: "duplicate key \(scanner.string(key))")
                }
                seen[seenIndex] = true
                switch role {
                case Role.type:
                    try scanner.skipValue()
                case Role.producer:
                    throw Self.reservedProducer
                case Role.sequence:
                    let value = try decodeSequence(&scanner)
                    if expectsSequence { sequence = value }
                case Role.time:
                    time = try decodeTime(&scanner, name: event.timeField ?? "")
                default:
                    fields[role] = try decodeField(&scanner, event.fields[role])
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
            guard scanner.isAtEndAfterWhitespace() else {
                throw scanner.syntaxError("unexpected data after the object")
            }
            for (index, field) in event.fields.enumerated() where !seen[index] && !field.isOptional {
                throw EventDecodingError(code: .missingField, message: "missing field \(field.name)")
            }
            if let timeField = event.timeField, !seen[event.fields.count + (-Role.time - 1)] {
                throw EventDecodingError(code: .missingField, message: "missing field \(timeField)")
            }
            if expectsSequence, !seen[event.fields.count + (-Role.sequence - 1)] {
                throw EventDecodingError(code: .missingField, message: "missing field seq")
            }
        }
        return DecodedEvent(
            eventIndex: eventIndex, fields: fields, time: time, sequence: sequence, line: lineNumber)
    }

    /// Looks a key up, unescaping it first only when it has escapes.
    private func lookUp(_ key: JSONScanner.StringToken, in table: KeyTable, scanner: JSONScanner) -> Int? {
        if !key.hasEscapes { return table.value(for: scanner.rawBytes(of: key)) }
        var unescaped: [UInt8] = []
        scanner.appendUnescaped(key, to: &unescaped)
        return unescaped.withUnsafeBytes { table.value(for: $0) }
    }

    /// Scans the top-level keys for `type` (usually the first) and resolves the event type.
    private func findEventType(_ scanner: inout JSONScanner) throws(EventDecodingError) -> Int {
        scanner.position += 1
        if scanner.consume(UInt8(ascii: "}")) {
            throw EventDecodingError(code: .unknownEventType, message: "missing field type")
        }
        repeat {
            let key = try scanner.scanString()
            try scanner.expect(UInt8(ascii: ":"), "':'")
            if scanner.string(key, equals: "type") {
                guard scanner.peekAfterWhitespace() == UInt8(ascii: "\"") else {
                    throw EventDecodingError(
                        code: .unknownEventType,
                        message: "field type: expected string, got \(scanner.describeValue(at: scanner.position))")
                }
                let name = try scanner.scanString()
                guard let index = lookUp(name, in: eventTypes, scanner: scanner) else {
                    throw EventDecodingError(code: .unknownEventType, message: "unknown event type \(scanner.describeValue(at: name.start - 1))")
                }
                return index
            }
            if scanner.string(key, equals: "producer") { throw Self.reservedProducer }
            try scanner.skipValue()
        } while scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
        throw EventDecodingError(code: .unknownEventType, message: "missing field type")
    }

    private static let reservedProducer = EventDecodingError(
        code: .reservedKey, message: "key producer is reserved (a hello is only valid as the first line)")

    private func mistyped(_ name: String, _ expected: String, _ scanner: JSONScanner, at offset: Int, _ note: String = "") -> EventDecodingError {
        EventDecodingError(
            code: .mistypedField,
            message: "field \(name): expected \(expected), got \(scanner.describeValue(at: offset))\(note)")
    }

    private func decodeSequence(_ scanner: inout JSONScanner) throws(EventDecodingError) -> UInt64 {
        let start = scanner.position
        let expected = "a positive integer"
        guard let byte = scanner.peekAfterWhitespace(), byte == UInt8(ascii: "-") || byte &- UInt8(ascii: "0") < 10 else {
            throw mistyped("seq", expected, scanner, at: start)
        }
        if let value = scanner.scanPlainInteger(), value > 0 { return UInt64(value) }
        scanner.position = start
        let token = try scanner.scanNumber()
        guard token.isInteger, let value = scanner.int64(token), value > 0 else {
            throw mistyped("seq", expected, scanner, at: start)
        }
        return UInt64(value)
    }

    private func decodeTime(_ scanner: inout JSONScanner, name: String) throws(EventDecodingError) -> Int64 {
        let start = scanner.position
        let expected = "epoch ms or RFC 3339 time"
        switch scanner.peekAfterWhitespace() {
        case UInt8(ascii: "\""):
            let token = try scanner.scanString()
            let parsed: Int64?
            if token.hasEscapes {
                var unescaped: [UInt8] = []
                scanner.appendUnescaped(token, to: &unescaped)
                parsed = unescaped.withUnsafeBytes { RFC3339.epochMilliseconds($0) }
            } else {
                parsed = RFC3339.epochMilliseconds(scanner.rawBytes(of: token))
            }
            guard let parsed else { throw mistyped(name, expected, scanner, at: start) }
            return parsed
        case let byte? where byte == UInt8(ascii: "-") || byte &- UInt8(ascii: "0") < 10:
            if let value = scanner.scanPlainInteger() { return value }
            let token = try scanner.scanNumber()
            guard token.isInteger, let value = scanner.int64(token) else { throw mistyped(name, expected, scanner, at: start) }
            return value
        default:
            throw mistyped(name, expected, scanner, at: start)
        }
    }

    private func decodeField(_ scanner: inout JSONScanner, _ field: EventField) throws(EventDecodingError) -> FieldValue {
        let start = scanner.position
        let byte = scanner.peekAfterWhitespace()
        if byte == UInt8(ascii: "n"), scanner.consumeLiteral("null") {
            guard field.isOptional else { throw mistyped(field.name, field.type.description, scanner, at: start) }
            return .null
        }
        let isNumberStart = byte.map { $0 == UInt8(ascii: "-") || $0 &- UInt8(ascii: "0") < 10 } ?? false
        switch field.type {
        case .int:
            guard isNumberStart else { throw mistyped(field.name, "int", scanner, at: start) }
            if let value = scanner.scanPlainInteger() { return .int(value) }
            let token = try scanner.scanNumber()
            guard token.isInteger else { throw mistyped(field.name, "int", scanner, at: start) }
            guard let value = scanner.int64(token) else {
                throw mistyped(field.name, "int", scanner, at: start, " (out of 64-bit range)")
            }
            return .int(value)
        case .float:
            guard isNumberStart else { throw mistyped(field.name, "float", scanner, at: start) }
            let value = try scanner.scanDouble()
            guard value.isFinite else { throw mistyped(field.name, "float", scanner, at: start, " (out of range)") }
            return .float(value)
        case .bool:
            if scanner.consumeLiteral("true") { return .bool(true) }
            if scanner.consumeLiteral("false") { return .bool(false) }
            throw mistyped(field.name, "bool", scanner, at: start)
        case .string:
            guard byte == UInt8(ascii: "\"") else { throw mistyped(field.name, "string", scanner, at: start) }
            return .string(scanner.string(try scanner.scanString()))
        case .vector(let dimension):
            return try decodeVector(&scanner, field, dimension: dimension)
        }
    }

    private func decodeVector(_ scanner: inout JSONScanner, _ field: EventField, dimension: Int) throws(EventDecodingError) -> FieldValue {
        // Built only for an error message.
        var expected: String { "vector[\(dimension)]" }
        guard scanner.consume(UInt8(ascii: "[")) else { throw mistyped(field.name, expected, scanner, at: scanner.position) }
        // Filled in place; an error leaves it partly initialized, which Float allows.
        var count = 0
        let values = try [Float](unsafeUninitializedCapacity: dimension) { (buffer, initializedCount) throws(EventDecodingError) in
            defer { initializedCount = count }
            guard !scanner.consume(UInt8(ascii: "]")) else { return }
            repeat {
                let start = scanner.position
                guard let byte = scanner.peekAfterWhitespace(), byte == UInt8(ascii: "-") || byte &- UInt8(ascii: "0") < 10 else {
                    throw EventDecodingError(
                        code: .mistypedField,
                        message: "field \(field.name): expected \(expected) of numbers, got \(scanner.describeValue(at: start)) at index \(count)")
                }
                let value = Float(try scanner.scanDouble())
                guard value.isFinite else {
                    throw EventDecodingError(
                        code: .mistypedField,
                        message: "field \(field.name): \(scanner.describeValue(at: start)) at index \(count) is out of float32 range")
                }
                guard count < dimension else {
                    throw EventDecodingError(
                        code: .mistypedField, message: "field \(field.name): expected \(expected), got more than \(dimension) numbers")
                }
                buffer[count] = value
                count += 1
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "]"), "',' or ']'")
        }
        guard count == dimension else {
            throw EventDecodingError(
                code: .mistypedField, message: "field \(field.name): expected \(expected), got \(count) numbers")
        }
        return .vector(values)
    }
}
