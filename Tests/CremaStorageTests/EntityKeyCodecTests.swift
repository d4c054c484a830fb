import CremaStorage
import Testing

@Suite("EntityKeyCodec and RowKey")
struct EntityKeyCodecTests {
    private func randomParts(_ random: inout SplitMix64) -> [EntityKeyPart] {
        (0..<Int.random(in: 1...4, using: &random)).map { _ in
            random.next() % 2 == 0
                ? .int(Int64(bitPattern: random.next() >> (random.next() % 64)) * (random.next() % 2 == 0 ? 1 : -1))
                : .string(random.string(maxCount: 20))
        }
    }

    @Test("random keys round-trip, and distinct keys encode distinctly")
    func roundTrip() throws {
        var random = SplitMix64(seed: 31)
        var encodings: [[UInt8]: [EntityKeyPart]] = [:]
        for _ in 0..<2000 {
            let parts = randomParts(&random)
            let bytes = EntityKeyCodec.encode(parts)
            #expect(try EntityKeyCodec.decode(bytes) == parts)
            if let earlier = encodings.updateValue(parts, forKey: bytes) {
                #expect(earlier == parts)
            }
        }
        #expect(try EntityKeyCodec.decode([UInt8]()) == [])
    }

    @Test("writeStringPart writes what append writes, in stringPartSize bytes, for lengths across varint sizes")
    func writeStringPart() {
        var random = SplitMix64(seed: 5)
        let strings = [""] + (0..<300).map { _ in random.string(maxCount: 60) } + [127, 128, 16_383, 16_384].map { String(repeating: "x", count: $0) }
        for string in strings {
            var appended: [UInt8] = []
            EntityKeyCodec.append(.string(string), to: &appended)
            let size = EntityKeyCodec.stringPartSize(utf8Count: string.utf8.count)
            let written = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                initialized = Array(string.utf8).withUnsafeBytes { EntityKeyCodec.writeStringPart($0, to: buffer.baseAddress!) }
            }
            #expect(written == appended, "\(string.utf8.count) bytes")
            #expect(size == appended.count)
        }
    }

    @Test("the encoding is unambiguous across types and part boundaries")
    func unambiguous() {
        let keys: [[EntityKeyPart]] = [
            [.int(1)], [.string("1")], [.string("ab")], [.string("a"), .string("b")],
            [.string(""), .string("ab")], [.string("ab"), .string("")], [.int(0), .int(1)], [.int(1), .int(0)],
        ]
        #expect(Set(keys.map(EntityKeyCodec.encode)).count == keys.count)
    }

    @Test("integer parts sort numerically by their bytes")
    func integersSortNumerically() {
        let values: [Int64] = [.min, -1_000_000, -1, 0, 1, 255, 256, 1 << 40, .max]
        let encoded = values.map { EntityKeyCodec.encode([.int($0)]) }
        #expect(encoded == encoded.sorted { $0.lexicographicallyPrecedes($1) })
    }

    @Test("malformed entity keys throw .corruption")
    func malformedKeysThrow() {
        let cases: [[UInt8]] = [
            [0x03],                         // unknown tag
            [0x01, 0, 0, 0],                // truncated int
            [0x02, 5, 0x61],                // string longer than the bytes
            [0x02, 2, 0xC3, 0x28],          // invalid UTF-8
            [0x02, 0x81, 0x00, 0x61],       // overlong length
            [0x02],                         // missing length
        ]
        for bytes in cases {
            let error = #expect(throws: StorageError.self) { try EntityKeyCodec.decode(bytes) }
            #expect(error?.code == .corruption)
        }
    }

    @Test("row keys are the big-endian group id followed by the entity key")
    func rowKeys() throws {
        let entity = EntityKeyCodec.encode([.string("v9")])
        let key = RowKey.make(groupID: 0x0102_0304, entityKey: entity)
        #expect(Array(key.prefix(4)) == [1, 2, 3, 4])
        #expect(try RowKey.groupID(of: key) == 0x0102_0304)
        #expect(try RowKey.entityKey(of: key) == entity)
        #expect(RowKey.prefix(groupID: 7) == [0, 0, 0, 7])
        #expect(RowKey.make(groupID: 7, entityKey: [0xFF]).lexicographicallyPrecedes(RowKey.prefix(groupID: 8)))
        #expect(try key.withUnsafeBytes { try RowKey.groupID(of: $0) } == 0x0102_0304)
        #expect(throws: StorageError.self) { try RowKey.groupID(of: [1, 2, 3]) }
        #expect(throws: StorageError.self) { try RowKey.entityKey(of: [UInt8]()) }
    }
}
