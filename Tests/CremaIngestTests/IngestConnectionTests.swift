import CremaEngine
@testable import CremaIngest
import Testing

/// What one call to the state machine asked for, in a form tests compare easily.
private enum Step: Equatable {
    case write(String)
    case lookUp(String)
    case submit(lines: [Int], producer: String?)
    case stopReading
    case resumeReading
    case close

    init(_ action: IngestConnection.Action) {
        switch action {
        case .write(let line): self = .write(line)
        case .lookUpProducer(let name): self = .lookUp(name)
        case .submit(let batch): self = .submit(lines: batch.events.map(\.line), producer: batch.producer)
        case .stopReading: self = .stopReading
        case .resumeReading: self = .resumeReading
        case .close: self = .close
        }
    }
}

private func ack(_ line: Int, accepted: Int = 0, rejected: Int = 0, duplicates: Int = 0, late: Int = 0) -> Step {
    .write("{\"ack\": \(line), \"accepted\": \(accepted), \"rejected\": \(rejected), \"duplicates\": \(duplicates), \"late\": \(late)}")
}

private func errorLine(_ message: String, _ line: Int) -> Step {
    .write("{\"error\": \(ReplyLine.quoted(message)), \"line\": \(line)}")
}

/// Drives an `IngestConnection` the way the channel handler does, without sockets.
private struct Driver {
    var connection: IngestConnection

    init(maximumLineLength: Int = 1 << 20, maximumBatchEvents: Int = 4096) {
        connection = IngestConnection(
            decoder: Fixtures.decoder,
            configuration: .init(maximumLineLength: maximumLineLength, maximumBatchEvents: maximumBatchEvents))
    }

    mutating func receive(_ text: String) -> [Step] { receive(Array(text.utf8)) }

    mutating func receive(_ bytes: [UInt8]) -> [Step] {
        bytes.withUnsafeBytes { connection.receive($0) }.map(Step.init)
    }

    mutating func readComplete() -> [Step] { connection.readComplete().map(Step.init) }
    mutating func inputEnded() -> [Step] { connection.inputEnded().map(Step.init) }
    mutating func drain() -> [Step] { connection.drain().map(Step.init) }

    mutating func complete(accepted: Int = 0, duplicates: Int = 0, late: Int = 0, rejections: [(Int, String)] = []) -> [Step] {
        var outcome = IngestOutcome()
        outcome.accepted = accepted
        outcome.duplicates = duplicates
        outcome.late = late
        outcome.rejections = rejections.map { .init(line: $0.0, message: $0.1) }
        return connection.batchCompleted(outcome).map(Step.init)
    }
}

@Suite("IngestConnection")
struct IngestConnectionTests {
    @Test func batchesLinesUntilTheReadBurstEndsThenAcks() {
        var driver = Driver()
        #expect(driver.receive(Fixtures.viewLine() + "\n" + Fixtures.viewLine(user: "u2") + "\n").isEmpty)
        #expect(driver.readComplete() == [.submit(lines: [1, 2], producer: nil)])
        #expect(driver.complete(accepted: 2) == [ack(2, accepted: 2)])
        #expect(driver.inputEnded() == [.close])
    }

    @Test func numbersLinesSkippingEmptyOnesAndDroppingCR() {
        var driver = Driver()
        let input = Fixtures.viewLine() + "\r\n\r\n   \t\n" + "{\"type\": \"nope\"}\r\n\n" + Fixtures.viewLine() + "\r\n"
        #expect(driver.receive(input) == [errorLine(#"unknown event type "nope""#, 4)])
        #expect(driver.readComplete() == [.submit(lines: [1, 6], producer: nil)])
        #expect(driver.complete(accepted: 2) == [ack(6, accepted: 2, rejected: 1)])
    }

    @Test func reassemblesLinesSplitAcrossReads() {
        var driver = Driver()
        let line = Array((Fixtures.viewLine() + "\r\n").utf8)
        for byte in line { #expect(driver.receive([byte]).isEmpty) }
        #expect(driver.readComplete() == [.submit(lines: [1], producer: nil)])
    }

    @Test func acceptsAHelloAndHoldsInputUntilItsReply() {
        var driver = Driver()
        let input = "{\"producer\": \"clicks-1\"}\n" + Fixtures.viewLine(seq: 42) + "\nnot json\n"
        #expect(driver.receive(input) == [.lookUp("clicks-1"), .stopReading])
        #expect(driver.readComplete().isEmpty)
        #expect(driver.connection.producerLookedUp(lastSequence: 41).map(Step.init) == [
            .write(#"{"producer": "clicks-1", "last_seq": 41}"#),
            errorLine("not a JSON object", 2),
            .submit(lines: [1], producer: "clicks-1"),
            .resumeReading,
        ])
        #expect(driver.receive(Fixtures.viewLine() + "\n") == [errorLine("missing field seq", 3)])
    }

    @Test func refusesMalformedHellosOnLineZeroAndCloses() {
        let hellos = [
            (#"{"producer": 5}"#, "invalid hello: producer: expected string, got 5"),
            (#"{"producer": ""}"#, "invalid hello: producer name is empty"),
            (#"{"producer": "p", "x": 1}"#, "invalid hello: a hello takes only producer, got key x"),
            (#"{"type": "view", "producer": "p"}"#, "invalid hello: a hello takes only producer, got key type"),
            (#"{"producer": "p"} junk"#, "invalid hello: invalid JSON at byte 19: unexpected data after the object"),
            (#"{"producer": "p", "producer": "q"}"#, "invalid hello: duplicate key producer"),
            ("{\"producer\": \"\(String(repeating: "p", count: 300))\"}", "invalid hello: producer name longer than 256 bytes"),
        ]
        for (hello, message) in hellos {
            var driver = Driver()
            #expect(driver.receive(hello + "\n" + Fixtures.viewLine() + "\n") == [errorLine(message, 0), .close], "\(hello)")
            #expect(driver.connection.isClosed)
            #expect(driver.readComplete().isEmpty)
        }
    }

    @Test func treatsAHelloAfterTheFirstLineAsABadLine() {
        var driver = Driver()
        #expect(driver.receive("\n{\"producer\": \"p\"}\n") == [
            errorLine("key producer is reserved (a hello is only valid as the first line)", 2),
        ])
        #expect(driver.readComplete() == [ack(2, rejected: 1)])
    }

    @Test func reportsAHelloLookupFailureOnLineZero() {
        var driver = Driver()
        _ = driver.receive("{\"producer\": \"p\"}\n")
        #expect(driver.connection.producerLookupFailed("disk on fire").map(Step.init) == [
            errorLine("producer lookup failed: disk on fire", 0), .close,
        ])
    }

    @Test func refusesOverLongLinesWithoutBufferingThem() {
        var driver = Driver(maximumLineLength: 10)
        // Exactly the limit (plus a CR) is fine; one more byte is not.
        #expect(driver.receive("{\"a\":\"12\"}\r\n") == [errorLine("missing field type", 1)])
        #expect(driver.receive("{\"a\":\"123\"}\n") == [errorLine("line longer than 10 bytes", 2)])
        // An over-long line split across reads is reported once, as soon as it is known.
        #expect(driver.receive("{\"type\": ").isEmpty)
        #expect(driver.receive("\"view\", ") == [errorLine("line longer than 10 bytes", 3)])
        #expect(driver.receive(String(repeating: "x", count: 10_000)).isEmpty)
        #expect(driver.receive("xx\n{}\n") == [errorLine("missing field type", 4)])
        #expect(driver.readComplete() == [ack(4, rejected: 4)])
    }

    @Test func aBadFirstLineIsLineOne() {
        var driver = Driver(maximumLineLength: 10)
        #expect(driver.receive(String(repeating: "y", count: 20)) == [errorLine("line longer than 10 bytes", 1)])
        #expect(driver.receive("\n{\"producer\": \"p\"}\n") == [
            errorLine("line longer than 10 bytes", 2),
        ])
    }

    @Test func acksInOrderWithRunningTotalsAndEngineRejectionsFirst() {
        var driver = Driver()
        _ = driver.receive(Fixtures.viewLine() + "\n" + Fixtures.viewLine() + "\n")
        #expect(driver.readComplete() == [.submit(lines: [1, 2], producer: nil)])
        // While batch 1 is in flight, more lines accumulate; nothing is submitted.
        #expect(driver.receive("oops\n" + Fixtures.viewLine() + "\n") == [errorLine("not a JSON object", 3)])
        #expect(driver.readComplete().isEmpty)
        #expect(driver.complete(accepted: 1, rejections: [(2, "too far ahead")]) == [
            errorLine("too far ahead", 2),
            ack(2, accepted: 1, rejected: 1),
            .submit(lines: [4], producer: nil),
        ])
        #expect(driver.receive("\n\n").isEmpty)
        #expect(driver.complete(accepted: 0, duplicates: 1) == [
            ack(4, accepted: 1, rejected: 2, duplicates: 1),
            ack(6, accepted: 1, rejected: 2, duplicates: 1),
        ])
        #expect(driver.readComplete().isEmpty)
        // What the server's metrics add up: the engine's rejection (line 2) is the engine's to count.
        #expect(driver.connection.rejectedLineCount == 1)
        #expect(driver.connection.ackCount == 3)
    }

    @Test func acksLinesWithoutEventsWithoutSubmitting() {
        var driver = Driver()
        #expect(driver.receive("bad\n\n").count == 1)
        #expect(driver.readComplete() == [ack(2, rejected: 1)])
        #expect(driver.readComplete().isEmpty)
        #expect(driver.connection.rejectedLineCount == 1)
        #expect(driver.connection.ackCount == 1)
    }

    @Test func stopsReadingWhileTheNextBatchIsFullAndAnotherIsInFlight() {
        var driver = Driver(maximumBatchEvents: 2)
        let line = Fixtures.viewLine() + "\n"
        // Two events fill a batch: submitted at once, even mid-read.
        #expect(driver.receive(line + line) == [.submit(lines: [1, 2], producer: nil)])
        // Two more fill the next batch while the first is in flight: reading stops and the rest is held.
        #expect(driver.receive(line + line + line + line) == [.stopReading])
        #expect(driver.readComplete().isEmpty)
        #expect(driver.receive(line).isEmpty)
        #expect(driver.complete(accepted: 2) == [ack(2, accepted: 2), .submit(lines: [3, 4], producer: nil)])
        // Lines 5 and 6 fill the next batch again, so line 7 stays held until the next ack.
        #expect(driver.complete(accepted: 2) == [ack(4, accepted: 4), .submit(lines: [5, 6], producer: nil), .resumeReading])
        #expect(driver.complete(accepted: 2) == [ack(6, accepted: 6), .submit(lines: [7], producer: nil)])
        #expect(driver.complete(accepted: 1) == [ack(7, accepted: 7)])
    }

    @Test func stopsReadingWhileTheSocketIsNotWritable() {
        var driver = Driver()
        #expect(driver.connection.writabilityChanged(isWritable: false).map(Step.init) == [.stopReading])
        #expect(driver.connection.writabilityChanged(isWritable: true).map(Step.init) == [.resumeReading])
    }

    @Test func flushesAtEndOfInputIncludingAnUnterminatedLastLineThenCloses() {
        var driver = Driver()
        #expect(driver.receive(Fixtures.viewLine() + "\n" + Fixtures.viewLine()).isEmpty)
        #expect(driver.inputEnded() == [.submit(lines: [1, 2], producer: nil), .stopReading])
        #expect(driver.complete(accepted: 2) == [ack(2, accepted: 2), .close])
        #expect(driver.connection.isClosed)
    }

    @Test func waitsForTheBatchInFlightBeforeClosing() {
        var driver = Driver()
        _ = driver.receive(Fixtures.viewLine() + "\n")
        _ = driver.readComplete()
        #expect(driver.receive("x\n") == [errorLine("not a JSON object", 2)])
        #expect(driver.inputEnded() == [.stopReading])
        #expect(driver.complete(accepted: 1) == [ack(1, accepted: 1), ack(2, accepted: 1, rejected: 1), .close])
    }

    @Test func closesAtOnceWhenNothingIsPending() {
        var driver = Driver()
        #expect(driver.inputEnded() == [.close])
    }

    @Test func drainSettlesDecodedEventsAndDropsTheRest() {
        var driver = Driver(maximumBatchEvents: 1)
        let line = Fixtures.viewLine() + "\n"
        #expect(driver.receive(line + line + line + "{\"partial") == [.submit(lines: [1], producer: nil), .stopReading])
        #expect(driver.drain().isEmpty)
        #expect(driver.complete(accepted: 1) == [ack(1, accepted: 1), .submit(lines: [2], producer: nil)])
        #expect(driver.complete(accepted: 1) == [ack(2, accepted: 2), .close])
    }

    @Test func aFailedBatchClosesTheConnectionWithoutAnAck() {
        var driver = Driver()
        _ = driver.receive(Fixtures.viewLine() + "\n")
        _ = driver.readComplete()
        #expect(driver.connection.batchFailed("WAL write failed").map(Step.init) == [
            errorLine("ingest failed: WAL write failed", 0), .close,
        ])
    }

    @Test func escapesErrorMessages() {
        #expect(ReplyLine.error("a \"b\" \\ \n\u{1}é", line: 3) == #"{"error": "a \"b\" \\ \n\u0001é", "line": 3}"#)
    }
}
