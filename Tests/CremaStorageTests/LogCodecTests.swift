@testable import CremaStorage
import Testing

@Suite("LogCodec")
struct LogCodecTests {
    /// One batch as a submitter sends it: its producer and each event's `seq` and line.
    private struct Batch {
        var producer: String
        var events: [(sequence: UInt64, line: [UInt8])]

        var segment: LogSegment {
            var builder = LogSegment.Builder()
            for event in events { event.line.withUnsafeBytes { builder.append(producerSequence: event.sequence, line: $0) } }
            return builder.finish(producer: producer)
        }
    }

    private func randomBatch(_ random: inout SplitMix64, count: Int) -> Batch {
        let producers = ["", "clicks-1", random.string(maxCount: 12)]
        return Batch(producer: producers.randomElement(using: &random)!, events: (0..<count).map { _ in
            let line = Array(#"{"type":"view","user_id":"u\#(random.next() % 1000)","ts":\#(random.next() % 100)}"#.utf8)
            return (random.next() % 3 == 0 ? 0 : random.next(), random.next() % 10 == 0 ? random.bytes(count: Int(random.next() % 50)) : line)
        })
    }

    /// What a block of `batches` with `skipped` positions decodes to: the events not skipped,
    /// numbered on from each segment's first arrival.
    private func expectedRecords(
        _ batches: [Batch], skipped: [[Int]], firstArrivals: [UInt64], arrivalTime: Int64
    ) -> [LogRecord] {
        zip(batches, zip(skipped, firstArrivals)).flatMap { batch, skippedAndFirst in
            let kept = batch.events.indices.filter { !skippedAndFirst.0.contains($0) }
            return kept.enumerated().map { offset, position in
                LogRecord(
                    arrivalSequence: skippedAndFirst.1 + UInt64(offset), arrivalTime: arrivalTime, producer: batch.producer,
                    producerSequence: batch.events[position].sequence, line: batch.events[position].line)
            }
        }
    }

    /// What `LogCodec.summary(of:)` should find in a block of `records`.
    private func summary(of records: [LogRecord]) -> LogCodec.BlockSummary? {
        guard let last = records.last, let newest = records.map(\.arrivalTime).max() else { return nil }
        return LogCodec.BlockSummary(newestArrivalTime: newest, lastArrival: last.arrivalSequence)
    }

    @Test("random blocks of segments round-trip, without their skipped events, and summarize without decoding")
    func roundTrip() throws {
        var random = SplitMix64(seed: 11)
        for segmentCount in [0, 1, 2, 5] {
            for _ in 0..<8 {
                // Up to 3,000 events of about 60 bytes: segments of one to three 64 kB blocks.
                let batches = (0..<segmentCount).map { _ in randomBatch(&random, count: 1 + Int(random.next() % 3_000)) }
                let skipped = batches.map { batch in batch.events.indices.filter { _ in random.next() % 8 == 0 } }
                var arrival = random.next() % (UInt64.max / 2)
                let firstArrivals = zip(batches, skipped).map { batch, skipped in
                    defer { arrival += UInt64(batch.events.count - skipped.count) }
                    return arrival
                }
                let arrivalTime = Int64.random(in: .min ... .max, using: &random)
                let block = LogCodec.encodeBlock(
                    arrivalTime: arrivalTime,
                    segments: zip(batches, zip(firstArrivals, skipped)).map {
                        .init(segment: $0.segment, firstArrival: $1.0, skipped: $1.1)
                    })
                #expect(block.first == LogCodec.formatVersion)
                let expected = expectedRecords(batches, skipped: skipped, firstArrivals: firstArrivals, arrivalTime: arrivalTime)
                #expect(try LogCodec.decodeBlock(block) == expected)
                #expect(try block.withUnsafeBytes { try LogCodec.summary(of: $0) } == summary(of: expected))
            }
        }
    }

    /// A block in format version 1, as releases before segments wrote it.
    private func version1Block(_ records: [LogRecord]) -> [UInt8] {
        var payload: [UInt8] = []
        payload.appendVarint(UInt64(records.count))
        for record in records {
            payload.appendUInt64(record.arrivalSequence)
            payload.appendInt64(record.arrivalTime)
            payload.appendLengthPrefixed(record.producer.utf8)
            payload.appendUInt64(record.producerSequence)
            payload.appendLengthPrefixed(record.line)
        }
        return [1] + LZ4Block.compress(payload)
    }

    @Test("version 1 blocks still decode")
    func version1BlocksDecode() throws {
        var random = SplitMix64(seed: 15)
        for count in [0, 1, 2, 10, 500] {
            let batch = randomBatch(&random, count: count)
            let records = batch.events.enumerated().map { index, event in
                LogRecord(
                    arrivalSequence: 1_000 + UInt64(index), arrivalTime: Int64(random.next() % 1_000_000), producer: batch.producer,
                    producerSequence: event.sequence, line: event.line)
            }
            #expect(try LogCodec.decodeBlock(version1Block(records)) == records)
            #expect(try version1Block(records).withUnsafeBytes { try LogCodec.summary(of: $0) } == summary(of: records))
        }
    }

    @Test("keys are big-endian sequence numbers that sort numerically")
    func keys() throws {
        var random = SplitMix64(seed: 12)
        let sequences = (0..<200).map { _ in random.next() >> (random.next() % 64) } + [0, .max]
        for sequence in sequences {
            #expect(LogCodec.key(sequence: sequence).count == 8)
            #expect(try LogCodec.sequence(fromKey: LogCodec.key(sequence: sequence)) == sequence)
        }
        let sortedByKey = sequences.sorted { LogCodec.key(sequence: $0).lexicographicallyPrecedes(LogCodec.key(sequence: $1)) }
        #expect(sortedByKey == sequences.sorted())
        #expect(LogCodec.key(sequence: 0x0102_0304_0506_0708) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(throws: StorageError.self) { try LogCodec.sequence(fromKey: [1, 2, 3]) }
    }

    /// A version 2 block of one segment of one block of `events`, whose counts are given as
    /// they are, right or not.
    private func segmentBlock(
        eventCount: UInt64, skipped: [UInt64], events: [UInt8], segmentCount: UInt64 = 1, blockEventCount: UInt64? = nil
    ) -> [UInt8] {
        var block: [UInt8] = [2]
        block.appendInt64(7)
        block.appendVarint(segmentCount)
        block.appendUInt64(1)
        block.appendLengthPrefixed("p".utf8)
        block.appendVarint(eventCount)
        block.appendVarint(UInt64(skipped.count))
        for position in skipped { block.appendVarint(position) }
        var blocks: [UInt8] = [1]
        blocks.appendVarint(blockEventCount ?? eventCount)
        blocks.appendLengthPrefixed(LZ4Block.compress(events))
        block.appendLengthPrefixed(blocks)
        return block
    }

    @Test("malformed blocks throw")
    func malformedBlocksThrow() {
        var random = SplitMix64(seed: 13)
        let block = LogCodec.encodeBlock(
            arrivalTime: 5, segments: [.init(segment: randomBatch(&random, count: 5).segment, firstArrival: 9, skipped: [1])])
        // One event: seq 3, line "x".
        let oneEvent: [UInt8] = [3, 0, 0, 0, 0, 0, 0, 0, 1, UInt8(ascii: "x")]
        #expect(throws: Never.self) { try LogCodec.decodeBlock(segmentBlock(eventCount: 1, skipped: [], events: oneEvent)) }
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("unknown version", [3] + block.dropFirst()),
            ("truncated", Array(block.dropLast())),
            ("trailing byte", block + [0]),
            ("more segments than fit", segmentBlock(eventCount: 1, skipped: [], events: oneEvent, segmentCount: 1_000)),
            ("more events than the payload holds", segmentBlock(eventCount: 2, skipped: [], events: oneEvent)),
            ("fewer events than the payload holds", segmentBlock(eventCount: 1, skipped: [], events: oneEvent + oneEvent)),
            ("skipped past the events", segmentBlock(eventCount: 1, skipped: [1], events: oneEvent)),
            ("skipped out of order", segmentBlock(eventCount: 2, skipped: [1, 0], events: oneEvent + oneEvent)),
            ("more skipped than events", segmentBlock(eventCount: 1, skipped: [0, 0], events: oneEvent)),
            ("a block of more events than its segment", segmentBlock(eventCount: 1, skipped: [], events: oneEvent + oneEvent, blockEventCount: 2)),
            ("a block of fewer events than its segment", segmentBlock(eventCount: 2, skipped: [], events: oneEvent, blockEventCount: 1)),
            ("version 1: 5 records, no bytes", [1] + LZ4Block.compress([5])),
            ("version 1: truncated record", [1] + LZ4Block.compress([1] + [UInt8](repeating: 0, count: 25))),
            ("version 1: trailing byte", [1] + LZ4Block.compress([0, 0])),
            ("version 1: bad UTF-8 producer",
             [1] + LZ4Block.compress([1] + [UInt8](repeating: 0, count: 16) + [1, 0xFF] + [UInt8](repeating: 0, count: 9))),
        ]
        for (name, bytes) in cases {
            let error = #expect(throws: StorageError.self, "\(name)") { try LogCodec.decodeBlock(bytes) }
            #expect(error?.code == .corruption || error?.code == .compression, "\(name)")
            if name.contains("segments") || name.contains("truncated") || name.contains("trailing") {
                #expect(throws: StorageError.self, "summary of \(name)") { try bytes.withUnsafeBytes { try LogCodec.summary(of: $0) } }
            }
        }
    }

    @Test("damaged blocks and payloads never crash")
    func damagedBlocksNeverCrash() {
        var random = SplitMix64(seed: 14)
        let batch = randomBatch(&random, count: 20)
        let block = LogCodec.encodeBlock(
            arrivalTime: 1, segments: [.init(segment: batch.segment, firstArrival: 1, skipped: [0, 3])])
        var events: [UInt8] = []
        for event in batch.events {
            events.appendUInt64(event.sequence)
            events.appendLengthPrefixed(event.line)
        }
        for _ in 0..<500 {
            // Damage the block's header, and the uncompressed events so the decoder (not LZ4) sees the garbage.
            var damagedBlock = block
            for _ in 0..<2 {
                damagedBlock[1 + Int(random.next() % 40)] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = try? LogCodec.decodeBlock(damagedBlock)
            _ = try? damagedBlock.withUnsafeBytes { try LogCodec.summary(of: $0) }
            var damagedEvents = events
            for _ in 0..<3 {
                damagedEvents[Int(random.next() % UInt64(damagedEvents.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            damagedEvents = Array(damagedEvents.prefix(Int(random.next() % UInt64(damagedEvents.count + 1))))
            _ = try? LogCodec.decodeBlock(segmentBlock(eventCount: 20, skipped: [2], events: damagedEvents))
        }
    }
}
