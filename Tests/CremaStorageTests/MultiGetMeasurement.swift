import CremaStorage
import Foundation
import Testing

/// A one-off measurement, not a test: batched multi-get of 10,000 keys from a warmed database
/// of 1M small rows. Runs only with `CREMA_MEASURE=1`; prints milliseconds.
@Suite("Measurement")
struct MultiGetMeasurement {
    @Test(
        "batchedMultiGet of 10,000 keys out of 1M rows",
        .enabled(if: ProcessInfo.processInfo.environment["CREMA_MEASURE"] == "1"),
        arguments: [0, 256 << 20])
    func multiGetOfTenThousandKeys(rowCacheBytes: Int) throws {
        let rowCount = 1_000_000
        let options = DatabaseOptions(blockCacheBytes: 512 << 20, rowCacheBytes: rowCacheBytes)
        try withTemporaryDirectory { directory in
            let database = try Database(path: directory + "/db", options: options)
            func key(_ index: Int) -> [UInt8] {
                RowKey.make(groupID: 1, entityKey: EntityKeyCodec.encode([.string("video-\(index)")]))
            }
            let batch = database.makeWriteBatch()
            for index in 0..<rowCount {
                let row = RowCodec.encode(
                    sections: [(aggregateID: 1, bytes: [UInt8](repeating: UInt8(index % 251), count: 24))],
                    newestEventTime: Int64(index))
                batch.put(key(index), value: row, in: .rows)
                if batch.count == 10_000 {
                    try database.write(batch, sync: false)
                    batch.clear()
                }
            }
            try database.flush()
            database.compactRange(in: .rows)

            var random = SplitMix64(seed: 42)
            let keys = (0..<10_000).map { _ in key(Int.random(in: 0..<rowCount, using: &random)) }
            _ = try database.batchedMultiGet(keys, in: .rows)  // warm the block cache
            var milliseconds: [Double] = []
            for _ in 0..<10 {
                let start = ContinuousClock.now
                let values = try database.batchedMultiGet(keys, in: .rows)
                let elapsed = ContinuousClock.now - start
                #expect(values.allSatisfy { $0 != nil })
                milliseconds.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
            }
            milliseconds.sort()
            print("batchedMultiGet 10,000 of 1M rows, warm, row cache \(rowCacheBytes >> 20) MiB: median \(milliseconds[5]) ms, min \(milliseconds[0]) ms")
        }
    }
}
