import CremaEngine
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What becomes of one numbered NDJSON line, by the rules the ingest socket and
/// `POST /v1/events` share (DESIGN.md, "Ingest protocol"): a line over the length limit is
/// refused, an empty or whitespace-only line is skipped (it keeps its number), any other line
/// is decoded and, when valid, appended to the batch with its bytes for the log.
public struct EventLineRules: Sendable {
    /// What happened to a line.
    public enum Outcome: Equatable, Sendable {
        /// Decoded and appended to the batch.
        case appended
        /// Empty or whitespace only.
        case skipped
        /// Refused, with the cause.
        case rejected(String)
    }

    /// Decodes the lines.
    public let decoder: EventDecoder
    /// The longest line accepted, in bytes, without its newline and trailing CR.
    public let maximumLineLength: Int

    /// Rules for lines of `decoder`'s events of at most `maximumLineLength` bytes.
    public init(decoder: EventDecoder, maximumLineLength: Int) {
        self.decoder = decoder
        self.maximumLineLength = maximumLineLength
    }

    /// The message of a line over the limit.
    public var overLongMessage: String { "line longer than \(maximumLineLength) bytes" }

    /// Applies the rules to line `number` (without its newline and trailing CR), appending its
    /// event to `batch` when it is valid; after a hello (`expectsSequence`) an event needs `seq`.
    public func add(_ line: UnsafeRawBufferPointer, number: Int, expectsSequence: Bool, to batch: inout IngestBatch) -> Outcome {
        guard line.count <= maximumLineLength else { return .rejected(overLongMessage) }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return .skipped }
        switch decoder.decode(line: line, lineNumber: number, expectsSequence: expectsSequence) {
        case .success(let event):
            batch.append(event, line: line)
            return .appended
        case .failure(let error):
            return .rejected(error.message)
        }
    }

    /// Calls `body` with each line of a whole body, without its newline and trailing CR; an
    /// unterminated last line is still a line. Lines are found with memchr.
    public static func forEachLine<Failure: Error>(
        in body: UnsafeRawBufferPointer, _ handle: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        var start = 0
        while start < body.count {
            let end = memchr(body.baseAddress! + start, Int32(UInt8(ascii: "\n")), body.count - start)
                .map { body.baseAddress!.distance(to: UnsafeRawPointer($0)) } ?? body.count
            var lineEnd = end
            if lineEnd > start, body[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            try handle(UnsafeRawBufferPointer(rebasing: body[start..<lineEnd]))
            start = end + 1
        }
    }
}
