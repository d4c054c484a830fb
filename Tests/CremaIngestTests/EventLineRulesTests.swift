import CremaEngine
import Testing

@testable import CremaIngest

@Suite("Per-line ingest rules shared by the socket and POST /v1/events")
struct EventLineRulesTests {
    private let rules = EventLineRules(decoder: Fixtures.decoder, maximumLineLength: 200)

    private func lines(of text: String) -> [String] {
        var found: [String] = []
        Array(text.utf8).withUnsafeBytes { bytes in
            EventLineRules.forEachLine(in: bytes) { found.append(String(decoding: $0, as: UTF8.self)) }
        }
        return found
    }

    @Test("a body splits at newlines, drops a trailing CR and keeps an unterminated last line")
    func splitting() {
        #expect(lines(of: "") == [])
        #expect(lines(of: "\n") == [""])
        #expect(lines(of: "a\r\nb\n\nc") == ["a", "b", "", "c"])
        #expect(lines(of: "a\rb\r\n") == ["a\rb"])
        #expect(lines(of: "\r\n\r\n") == ["", ""])
    }

    @Test("a valid line is appended with its bytes, blank lines are skipped, bad lines name their cause")
    func outcomes() {
        var batch = IngestBatch(producer: nil)
        func add(_ text: String, number: Int, expectsSequence: Bool = false) -> EventLineRules.Outcome {
            Array(text.utf8).withUnsafeBytes { rules.add($0, number: number, expectsSequence: expectsSequence, to: &batch) }
        }
        #expect(add(Fixtures.viewLine(), number: 1) == .appended)
        #expect(add(" \t\r", number: 2) == .skipped)
        #expect(add("", number: 3) == .skipped)
        #expect(add(String(repeating: "x", count: 201), number: 4) == .rejected("line longer than 200 bytes"))
        guard case .rejected(let message) = add(Fixtures.viewLine(), number: 5, expectsSequence: true) else {
            Issue.record("an event without seq after a hello was accepted")
            return
        }
        #expect(message.contains("seq"))
        guard case .rejected = add("{\"type\": \"view\"", number: 6) else {
            Issue.record("a truncated object was accepted")
            return
        }
        #expect(add(Fixtures.viewLine(seq: 7), number: 7, expectsSequence: true) == .appended)
        #expect(batch.events.map(\.line) == [1, 7])
    }
}
