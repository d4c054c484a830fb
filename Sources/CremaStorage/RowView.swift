/// A non-copying reader of a row encoded by `RowCodec`: the newest event time and each
/// aggregate's section, found by aggregate id without decoding the others.
///
/// The view borrows its bytes: it is valid only while the buffer it was made from is (for
/// example inside `withUnsafeBytes`, or the body of `Database.batchedMultiGet(_:in:_:)`).
/// Iterating it yields the sections in ascending aggregate id order.
public struct RowView: RandomAccessCollection {
    /// One section: an aggregate id and its bytes.
    public typealias Element = (aggregateID: UInt64, bytes: UnsafeRawBufferPointer)

    /// The whole row.
    private let bytes: UnsafeRawBufferPointer
    /// Where the section table starts in `bytes`.
    private let tableStart: Int
    /// Where the payload starts in `bytes`.
    private let payloadStart: Int

    /// The event time of the newest event the row holds, epoch milliseconds.
    public let newestEventTime: Int64
    /// The arrival number after the newest event applied to the row (0 in format version 1).
    public let nextArrival: UInt64
    /// The number of sections (aggregates) in the row.
    public let sectionCount: Int

    /// Validates the header and section table of `bytes` and makes a view of it.
    ///
    /// - Complexity: O(k) in the number of sections.
    /// - Throws: `StorageError` (`.corruption`) for an unknown version, a truncated table,
    ///   unsorted or repeated aggregate ids, or section bounds outside the payload.
    public init(bytes: UnsafeRawBufferPointer) throws {
        var reader = ByteReader(bytes, context: "row")
        let version = try reader.readByte()
        guard version == RowCodec.formatVersion || version == RowCodec.versionWithoutArrival else {
            throw reader.corruption("unknown format version \(version)")
        }
        let newestEventTime = try reader.readInt64()
        let nextArrival = version == RowCodec.versionWithoutArrival ? 0 : try reader.readUInt64()
        let count = try reader.readUInt32()
        guard UInt64(count) * UInt64(RowCodec.tableEntryCount) <= UInt64(reader.remainingCount) else {
            throw reader.corruption("a table of \(count) sections cannot fit")
        }
        let tableStart = RowCodec.headerCount(version: version)
        let payloadStart = tableStart + Int(count) * RowCodec.tableEntryCount
        let payloadCount = bytes.count - payloadStart
        var previousID: UInt64 = 0
        var previousEnd: UInt32 = 0
        for index in 0..<Int(count) {
            let id = try reader.readUInt64()
            let end = try reader.readUInt32()
            guard index == 0 || id > previousID else { throw reader.corruption("aggregate ids out of order") }
            guard end >= previousEnd, Int(end) <= payloadCount else {
                throw reader.corruption("section end \(end) outside the \(payloadCount)-byte payload")
            }
            previousID = id
            previousEnd = end
        }
        guard Int(previousEnd) == payloadCount else {
            throw reader.corruption("sections cover \(previousEnd) of \(payloadCount) payload bytes")
        }
        self.bytes = bytes
        self.tableStart = tableStart
        self.payloadStart = payloadStart
        self.newestEventTime = newestEventTime
        self.nextArrival = nextArrival
        self.sectionCount = Int(count)
    }

    /// The position of the first section.
    public var startIndex: Int { 0 }
    /// The position past the last section.
    public var endIndex: Int { sectionCount }

    /// The aggregate id and bytes of the section at `index`.
    public subscript(index: Int) -> Element {
        precondition(index >= 0 && index < sectionCount, "section index out of range")
        let start = index == 0 ? 0 : end(at: index - 1)
        let bytesOfSection = UnsafeRawBufferPointer(
            rebasing: bytes[(payloadStart + start)..<(payloadStart + end(at: index))])
        return (aggregateID(at: index), bytesOfSection)
    }

    /// The bytes of an aggregate's section, or `nil` when the row has no such aggregate.
    ///
    /// - Complexity: O(log k) in the number of sections.
    public func section(for aggregateID: UInt64) -> UnsafeRawBufferPointer? {
        var low = 0
        var high = sectionCount
        while low < high {
            let middle = (low + high) / 2
            let id = self.aggregateID(at: middle)
            if id == aggregateID { return self[middle].bytes }
            if id < aggregateID { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The aggregate id in table entry `index` (validated by `init`).
    private func aggregateID(at index: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(
            fromByteOffset: tableStart + index * RowCodec.tableEntryCount, as: UInt64.self))
    }

    /// The payload offset just past section `index` (validated by `init`).
    private func end(at index: Int) -> Int {
        Int(UInt32(littleEndian: bytes.loadUnaligned(
            fromByteOffset: tableStart + index * RowCodec.tableEntryCount + 8, as: UInt32.self)))
    }
}
