import CremaStorage
import Foundation

/// Small options so tests do not reserve production-sized caches.
let testOptions = DatabaseOptions(blockCacheBytes: 8 << 20, rowCacheBytes: 1 << 20, writeBufferBytes: 4 << 20)

/// Calls `body` with the path of a fresh temporary directory, removed afterwards.
func withTemporaryDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("crema-storage-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// Calls `body` with a database opened in a fresh temporary directory; the database is closed
/// (released) before the directory is removed, provided `body` does not keep it.
func withTemporaryDatabase<Result>(
    rowFilter: Database.RowFilter? = nil, _ body: (Database) throws -> Result
) throws -> Result {
    try withTemporaryDirectory { directory in
        try body(try Database(path: directory + "/db", options: testOptions, rowFilter: rowFilter))
    }
}

/// The 8-byte big-endian encoding of `value`, so byte order is numeric order.
func bigEndianKey(_ value: UInt64) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}
