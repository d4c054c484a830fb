import CremaEngine

/// The optional first line of a connection, `{"producer": "name"}`.
package enum ProducerHello: Equatable {
    /// The line is not a hello (no top-level `producer` key): it is line 1.
    case notHello
    /// A valid hello naming the producer.
    case hello(String)
    /// A hello with a problem (wrong type, other keys, empty name, bad JSON): refused on line 0.
    case malformed(String)

    /// The longest accepted producer name, in UTF-8 bytes.
    package static let maximumNameLength = 256

    /// Classifies the first line of a connection.
    /// - Complexity: O(line length).
    package init(line: UnsafeRawBufferPointer) {
        guard firstInvalidUTF8Offset(in: line) == nil else { self = .notHello; return }
        var scanner = JSONScanner(line)
        guard scanner.consume(UInt8(ascii: "{")), !scanner.consume(UInt8(ascii: "}")) else { self = .notHello; return }
        var hasProducer = false
        var name: String?
        var problem: String?
        do throws(EventDecodingError) {
            repeat {
                let key = try scanner.scanString()
                try scanner.expect(UInt8(ascii: ":"), "':'")
                if scanner.string(key, equals: "producer") {
                    if hasProducer { problem = problem ?? "duplicate key producer" }
                    hasProducer = true
                    if scanner.peekAfterWhitespace() == UInt8(ascii: "\"") {
                        name = scanner.string(try scanner.scanString())
                    } else {
                        problem = problem ?? "producer: expected string, got \(scanner.describeValue(at: scanner.position))"
                        try scanner.skipValue()
                    }
                } else {
                    problem = problem ?? "a hello takes only producer, got key \(scanner.string(key))"
                    try scanner.skipValue()
                }
            } while scanner.consume(UInt8(ascii: ","))
            try scanner.expect(UInt8(ascii: "}"), "',' or '}'")
            guard scanner.isAtEndAfterWhitespace() else { throw scanner.syntaxError("unexpected data after the object") }
        } catch {
            self = hasProducer ? .malformed("invalid hello: \(error.message)") : .notHello
            return
        }
        guard hasProducer, let name else {
            self = hasProducer ? .malformed("invalid hello: \(problem ?? "no producer")") : .notHello
            return
        }
        if let problem {
            self = .malformed("invalid hello: \(problem)")
        } else if name.isEmpty {
            self = .malformed("invalid hello: producer name is empty")
        } else if name.utf8.count > Self.maximumNameLength {
            self = .malformed("invalid hello: producer name longer than \(Self.maximumNameLength) bytes")
        } else {
            self = .hello(name)
        }
    }
}
