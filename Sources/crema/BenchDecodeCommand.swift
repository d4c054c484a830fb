import ArgumentParser
import CremaEngine
import CremaIngest
import Foundation

/// `crema bench decode`: how fast one core turns NDJSON lines into decoded events, and into a
/// batch with its compressed log segment, as each ingest connection does on its event loop.
struct BenchDecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "ns per event decoding a spec's NDJSON lines on one core, alone and into batches with their log segment."
    )

    @Option(help: "The spec directory or file.")
    var specs = "specs"

    @Option(help: "The event type to decode.")
    var event = "view"

    @Option(help: "Lines per round.")
    var events = 200_000

    @Option(help: "Timed rounds; the table gives the fastest and the median.")
    var rounds = 7

    /// Events per batch, as an ingest connection's largest.
    private static let batchEvents = 4_096

    func validate() throws {
        guard events > 0, rounds > 0 else { throw ValidationError("--events and --rounds must be positive") }
    }

    func run() throws {
        let spec = try compileOrExit(specs)
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        func lines(writingFloatsInFull: Bool) throws -> [UInt8] {
            var generator = try EventGenerator(spec: spec, event: event, entities: 100_000, writesFloatsInFull: writingFloatsInFull, seed: 1)
            var text = ""
            for sequence in 1...events { text += generator.line(sequence: sequence, now: now) }
            return Array(text.utf8)
        }
        let input = try lines(writingFloatsInFull: false)
        let inputInFull = try lines(writingFloatsInFull: true)
        let decoder = EventDecoder(spec: spec)

        func timeDecoding(_ input: [UInt8]) throws -> Double {
            try timePerEvent {
                try forEachLine(of: input) { line, number in
                    _ = try decoder.decode(line: line, lineNumber: number, expectsSequence: true).get()
                }
            }
        }

        var decodeOnly: [Double] = []
        var decodeInFull: [Double] = []
        var intoBatches: [Double] = []
        for _ in 0..<rounds {
            decodeOnly.append(try timeDecoding(input))
            decodeInFull.append(try timeDecoding(inputInFull))
            intoBatches.append(try timePerEvent {
                var batch = IngestBatch(producer: "bench")
                try forEachLine(of: input) { line, number in
                    batch.append(try decoder.decode(line: line, lineNumber: number, expectsSequence: true).get(), line: line)
                    if batch.events.count == Self.batchEvents {
                        _ = batch.logSegment()
                        batch = IngestBatch(producer: "bench")
                    }
                }
                _ = batch.logSegment()
            })
        }
        print("crema bench decode: \(spec.summary), event \(event), \(events) lines of \(input.count / events) bytes on average, \(rounds) rounds")
        print("| work | ns per event (fastest) | ns per event (median) | MB/s (fastest) |")
        print("|---|---|---|---|")
        let rows = [
            ("decode", decodeOnly, input.count),
            ("decode, floats written in full (\(inputInFull.count / events) bytes a line)", decodeInFull, inputInFull.count),
            ("decode into batches of \(Self.batchEvents) with their log segment", intoBatches, input.count),
        ]
        for (name, times, bytes) in rows {
            let sorted = times.sorted()
            let fastest = sorted[0]
            print("| \(name) | \(Int(fastest)) | \(Int(sorted[sorted.count / 2])) | \(Int(Double(bytes) / 1e6 / (fastest * Double(events) / 1e9))) |")
        }
    }

    /// Calls `body` with each newline-terminated line of `input` (without its newline) and its number.
    private func forEachLine(of input: [UInt8], _ body: (UnsafeRawBufferPointer, Int) throws -> Void) throws {
        try input.withUnsafeBytes { bytes in
            var number = 0
            try EventLineRules.forEachLine(in: bytes) { line in
                number += 1
                try body(line, number)
            }
        }
    }

    /// The wall time of `work` per event, in ns.
    private func timePerEvent(_ work: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try work()
        let elapsed = ContinuousClock.now - start
        return elapsed.inSeconds * 1e9 / Double(events)
    }
}
