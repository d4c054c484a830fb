import CremaEngine
import CremaIngest

/// A `POST /v1/events` body split and decoded as the ingest socket would: NDJSON lines,
/// an optional hello first, lines numbered from 1 after it (DESIGN.md, "Ingest protocol").
///
/// The socket's rules, from `EventLineRules`: an empty or whitespace-only line is skipped but
/// numbered; a trailing CR is dropped; a line over `maximumLineLength` bytes (newline excluded)
/// is a bad line; an unterminated last line is still a line. After a hello every event needs
/// `seq`. A malformed hello (the socket's line-0 error) refuses the whole request.
struct EventBody {
    /// One refused line.
    struct LineError: Equatable {
        /// The line number (from 1 after the hello).
        var line: Int
        /// Why it was refused.
        var message: String
    }

    /// The events decoded, in line order, with their lines; its producer is the one named by
    /// the hello, if there was one.
    var batch = IngestBatch(producer: nil)
    /// The lines refused while decoding.
    var errors: [LineError] = []
    /// The number of lines numbered (the hello excluded).
    var lineCount = 0

    /// Splits and decodes `body`.
    /// - Throws: `HTTPError` (400) for a malformed hello.
    /// - Complexity: O(body length).
    init(_ body: [UInt8], decoder: EventDecoder, maximumLineLength: Int = 1 << 20) throws(HTTPError) {
        let rules = EventLineRules(decoder: decoder, maximumLineLength: maximumLineLength)
        var isFirstLine = true
        let result = body.withUnsafeBytes { bytes -> Result<Void, HTTPError> in
            do throws(HTTPError) {
                try EventLineRules.forEachLine(in: bytes) { (line) throws(HTTPError) in
                    defer { isFirstLine = false }
                    if isFirstLine, line.count <= maximumLineLength, let name = try Self.hello(in: line) {
                        batch.producer = name
                        return
                    }
                    lineCount += 1
                    if case .rejected(let message) = rules.add(line, number: lineCount, expectsSequence: batch.producer != nil, to: &batch) {
                        errors.append(LineError(line: lineCount, message: message))
                    }
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// The producer name when `line` is a hello (an object with a top-level `producer` key),
    /// nil when it is an ordinary line; the rules are the ingest socket's (`ProducerHello`).
    /// - Throws: `HTTPError` (400) when it is a hello with a problem.
    private static func hello(in line: UnsafeRawBufferPointer) throws(HTTPError) -> String? {
        switch ProducerHello(line: line) {
        case .notHello: return nil
        case .hello(let name): return name
        case .malformed(let message): throw .badRequest(message)
        }
    }
}
