import CremaStorage
import Testing

@Suite("LogCodec")
struct LogCodecTests {
    private func randomRecords(_ random: inout SplitMix64, count: Int) -> [LogRecord] {
        let producers = ["", "clicks-1", random.string(maxCount: 12)]
        var sequence = UInt64.random(in: 0...UInt64.max / 2, using: &random)
        return (0..<count).map { _ in
            sequence += 1
            let line = Array(#"{"type":"view","user_id":"u\#(random.next() % 1000)","ts":\#(random.next() % 100)}"#.utf8)
            return LogRecord(
                arrivalSequence: sequence, arrivalTime: Int64.random(in: .min ... .max, using: &random),
                producer: producers.randomElement(using: &random)!,
                producerSequence: random.next() % 3 == 0 ? 0 : random.next(),
                line: random.next() % 10 == 0 ? random.bytes(count: Int(random.next() % 50)) : line)
        }
    }

    @Test("random blocks round-trip")
    func roundTrip() throws {
        var random = SplitMix64(seed: 11)
        for count in [0, 1, 2, 10, 500] {
            let records = randomRecords(&random, count: count)
            let block = LogCodec.encodeBlock(records)
            #expect(block.first == LogCodec.formatVersion)
            #expect(try LogCodec.decodeBlock(block) == records)
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

    @Test("malformed blocks throw")
    func malformedBlocksThrow() {
        var random = SplitMix64(seed: 13)
        let block = LogCodec.encodeBlock(randomRecords(&random, count: 5))
        let cases: [[UInt8]] = [
            [],
            [2] + block.dropFirst(),                          // unknown version
            Array(block.dropLast()),                          // truncated
            [1] + LZ4Block.compress([5]),                     // 5 records, no bytes
            [1] + LZ4Block.compress([1] + [UInt8](repeating: 0, count: 25)),  // truncated record
            [1] + LZ4Block.compress([0, 0]),                  // trailing byte
            [1] + LZ4Block.compress([1] + [UInt8](repeating: 0, count: 16) + [1, 0xFF] + [UInt8](repeating: 0, count: 9)),  // bad UTF-8 producer
        ]
        for bytes in cases {
            let error = #expect(throws: StorageError.self) { try LogCodec.decodeBlock(bytes) }
            #expect(error?.code == .corruption || error?.code == .compression)
        }
    }

    @Test("damaged payloads never crash")
    func damagedPayloadsNeverCrash() {
        var random = SplitMix64(seed: 14)
        let payloadRecords = randomRecords(&random, count: 20)
        for _ in 0..<500 {
            // Damage the uncompressed payload, so the decoder (not LZ4) sees the garbage.
            var payload = Array(LogCodec.encodeBlock(payloadRecords).dropFirst())
            payload = (try? LZ4Block.decompress(payload)) ?? []
            for _ in 0..<3 where !payload.isEmpty {
                payload[Int(random.next() % UInt64(payload.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            payload = Array(payload.prefix(Int(random.next() % UInt64(payload.count + 1))))
            _ = try? LogCodec.decodeBlock([1] + LZ4Block.compress(payload))
        }
    }
}
