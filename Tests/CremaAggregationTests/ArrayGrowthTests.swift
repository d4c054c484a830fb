@testable import CremaAggregation
import Testing

@Suite("Array insert with a first capacity")
struct ArrayGrowthTests {
    @Test func firstInsertReservesTheMinimumAndLaterOnesDouble() {
        var values: [Int] = []
        values.insert(5, at: 0, growingFrom: 8)
        #expect(values.capacity >= 8)
        let firstBuffer = values.withUnsafeBufferPointer { $0.baseAddress }
        for value in 1..<5 { values.insert(value, at: values.count - 1, growingFrom: 8) }
        #expect(values.withUnsafeBufferPointer { $0.baseAddress } == firstBuffer, "no reallocation below the minimum")
        for value in 6...100 { values.insert(value, at: values.count, growingFrom: 8) }
        #expect(values == Array(1...100))
        #expect(values.capacity < 400, "doubling, not a fixed step")
    }

    @Test func insertsAtEveryPositionLikeInsert() {
        var random = SplitMix64(seed: 9)
        var grown: [UInt32] = []
        var plain: [UInt32] = []
        for _ in 0..<300 {
            let value = UInt32(truncatingIfNeeded: random.next())
            let index = Int(random.next() % UInt64(plain.count + 1))
            grown.insert(value, at: index, growingFrom: 16)
            plain.insert(value, at: index)
        }
        #expect(grown == plain)
    }
}
