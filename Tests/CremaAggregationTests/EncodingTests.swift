import Testing
@testable import CremaAggregation

/// The aggregate container format: version 2 written, version 1 still read, bad input rejected.
@Suite struct EncodingTests {
    /// Tile 5,879,666 of a 5-minute hop starts at 1,763,899,800,000 ms.
    static let tile: Int64 = 5_879_666
    /// Five minutes.
    static let fiveMinutes = 5 * Milliseconds.minute

    /// Decodes `bytes` with `aggregator`.
    private func decode(_ bytes: [UInt8], with aggregator: any Aggregator) throws -> AggregateState {
        try bytes.withUnsafeBytes { try aggregator.decode($0) }
    }

    /// Every feature of `aggregator` read at `time` straight from `bytes`.
    private func readResults(_ bytes: [UInt8], with aggregator: any Aggregator, at time: Int64) throws -> [FeatureValue] {
        var values = Array(repeating: FeatureValue.null, count: aggregator.featureCount)
        try bytes.withUnsafeBytes { buffer in
            try aggregator.readResults(ofEncoded: buffer, features: Array(values.indices), at: time) { values[$0] = $1 }
        }
        return values
    }

    @Test func versionOneCountTilesDecode() throws {
        let aggregator = try makeAggregator(operation: .count, inputs: [], windows: [Window(length: Milliseconds.hour, name: "1h")])
        let version1: [UInt8] = [
            0x01, 0x01, 0x02,
            0x72, 0xB7, 0x59, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
            0x74, 0xB7, 0x59, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
        ]
        let state = try decode(version1, with: aggregator)
        #expect(aggregator.result(of: state, feature: 0, at: (Self.tile + 2) * Self.fiveMinutes + 1) == .int(8))
        #expect(aggregator.result(of: state, feature: 0, at: (Self.tile + 13) * Self.fiveMinutes) == .int(5))
        #expect(try readResults(version1, with: aggregator, at: (Self.tile + 2) * Self.fiveMinutes + 1) == [.int(8)])
        var rewritten: [UInt8] = []
        aggregator.encode(state, into: &rewritten)
        #expect(rewritten == [0x02, 0x01, 0x02, 0xE4, 0xDD, 0xCD, 0x05, 0x03, 0x02, 0x05], "re-encoded as version 2")
    }

    @Test func versionOneFloatSumWithTwoHopsDecodes() throws {
        let windows = [Window(length: Milliseconds.hour, name: "1h"), Window(length: Milliseconds.day, name: "1d")]
        let aggregator = try makeAggregator(operation: .sum, inputs: [TestEvents.float], windows: windows)
        let twoAndAHalf: [UInt8] = [0, 0, 0, 0, 0, 0, 0x04, 0x40]
        let version1: [UInt8] = [0x01, 0x02]
            + [0x01, 0x72, 0xB7, 0x59, 0x00, 0x00, 0x00, 0x00, 0x00] + twoAndAHalf
            + [0x01, 0xF4, 0x79, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00] + twoAndAHalf
        let state = try decode(version1, with: aggregator)
        let at = Self.tile * Self.fiveMinutes + 1
        #expect(aggregator.result(of: state, feature: 0, at: at) == .float(2.5))
        #expect(aggregator.result(of: state, feature: 1, at: at) == .float(2.5))
        #expect(aggregator.result(of: state, feature: 1, at: at + 2 * Milliseconds.day) == .float(0))
        #expect(try readResults(version1, with: aggregator, at: at) == [.float(2.5), .float(2.5)])
    }

    @Test func versionOneLifetimeLastNDecodes() throws {
        let aggregator = try makeAggregator(operation: .lastN(n: 3, distinct: true), inputs: [TestEvents.string], windows: [])
        let version1: [UInt8] = [0x01, 0x01, 0xD0, 0x0F, 0x07, 0x02, 0x76, 0x39]
        let state = try decode(version1, with: aggregator)
        #expect(aggregator.result(of: state, feature: 0, at: 0) == .list([.string("v9")]))
        _ = aggregator.add([.null, .null, .string("v9"), .null, .null], time: 999, arrival: 8, now: 2_000, to: state)
        #expect(aggregator.result(of: state, feature: 0, at: 0) == .list([.string("v9")]), "the decoded stamp (ts 1000) stays newest")
    }

    @Test func rejectsUnknownVersionsTruncationAndTrailingBytes() throws {
        let aggregator = try makeAggregator(operation: .count, inputs: [], windows: [Window(length: Milliseconds.hour, name: "1h")])
        let valid: [UInt8] = [0x02, 0x01, 0x02, 0xE4, 0xDD, 0xCD, 0x05, 0x03, 0x02, 0x05]
        #expect(throws: AggregationError.self) { try decode([0x03] + valid.dropFirst(), with: aggregator) }
        #expect(throws: AggregationError.self) { try decode(Array(valid.dropLast()), with: aggregator) }
        #expect(throws: AggregationError.self) { try decode(valid + [0x00], with: aggregator) }
        #expect(throws: AggregationError.self) { try decode([0x02, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01], with: aggregator) }
        let bad: [[UInt8]] = [[0x03] + valid.dropFirst(), Array(valid.dropLast()), valid + [0x00], [0x02, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]]
        for bad in bad {
            #expect(throws: AggregationError.self, "read straight from \(bad)") { try readResults(bad, with: aggregator, at: 0) }
        }
        do {
            _ = try decode([0x09], with: aggregator)
            Issue.record("version 9 decoded")
        } catch let error as AggregationError {
            #expect(error.code == .unsupportedVersion)
        }
    }

    @Test func primitivesRoundTrip() throws {
        var generator = SplitMix64(seed: 99)
        var bytes: [UInt8] = []
        var integers: [Int64] = [0, -1, 1, .min, .max, 63, -64, 64]
        for _ in 0..<200 { integers.append(Int64(bitPattern: generator.next()) >> Int64.random(in: 0..<64, using: &generator)) }
        for value in integers {
            bytes.appendZigzag(value)
            bytes.appendVarint(UInt64(bitPattern: value))
            bytes.appendFixed64(UInt64(bitPattern: value))
            bytes.appendDouble(Double(value) / 3)
        }
        bytes.appendString("日本 ü")
        try bytes.withUnsafeBytes { (buffer) throws -> Void in
            var reader = ByteReader(buffer)
            for value in integers {
                #expect(try reader.readZigzag() == value)
                #expect(try reader.readVarint() == UInt64(bitPattern: value))
                #expect(try reader.readFixed64() == UInt64(bitPattern: value))
                #expect(try reader.readDouble() == Double(value) / 3)
            }
            #expect(try reader.readString() == "日本 ü")
            #expect(reader.isAtEnd)
        }
    }
}
