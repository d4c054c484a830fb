import CremaStorage
import Testing

@Suite("LZ4Block")
struct LZ4BlockTests {
    @Test("random and repetitive inputs round-trip")
    func roundTrip() throws {
        var random = SplitMix64(seed: 1)
        for count in [1, 2, 15, 16, 17, 255, 256, 4096, 65_537, 300_000] {
            let noise = random.bytes(count: count)
            #expect(try LZ4Block.decompress(LZ4Block.compress(noise)) == noise)
            let repetitive = (0..<count).map { UInt8($0 % 7) }
            let block = LZ4Block.compress(repetitive)
            #expect(try LZ4Block.decompress(block) == repetitive)
            if count >= 4096 { #expect(block.count < count / 10) }
        }
    }

    @Test("the empty input round-trips")
    func emptyInput() throws {
        let block = LZ4Block.compress([UInt8]())
        #expect(try LZ4Block.decompress(block) == [])
    }

    @Test("malformed blocks throw", arguments: [
        [],                      // no header
        [0x80],                  // truncated varint
        [0x05],                  // header without data
        [0x05, 0xFF, 0xFF],      // literal run past the end
        [0x00, 0x10],            // claims 0 bytes, data says otherwise
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00],  // claims 4 GiB from one byte
        [0x80, 0x00, 0x00],      // overlong varint
    ] as [[UInt8]])
    func malformedBlocksThrow(block: [UInt8]) {
        let error = #expect(throws: StorageError.self) { try LZ4Block.decompress(block) }
        #expect(error?.code == .corruption || error?.code == .compression)
    }

    @Test("truncated, extended and wrong-length blocks throw")
    func damagedBlocksThrow() {
        var random = SplitMix64(seed: 2)
        let input = random.bytes(count: 1000) + [UInt8](repeating: 3, count: 1000)
        let block = LZ4Block.compress(input)
        #expect(throws: StorageError.self) { try LZ4Block.decompress(Array(block.dropLast())) }
        #expect(throws: StorageError.self) { try LZ4Block.decompress(block + [0]) }
        var otherLength: [UInt8] = [0xCF, 0x0F]  // 1999, one byte short
        otherLength += block.dropFirst(2)
        #expect(throws: StorageError.self) { try LZ4Block.decompress(otherLength) }
    }

    @Test("random garbage never crashes")
    func garbageNeverCrashes() {
        var random = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let garbage = random.bytes(count: Int.random(in: 0..<64, using: &random))
            _ = try? LZ4Block.decompress(garbage)
        }
    }
}
