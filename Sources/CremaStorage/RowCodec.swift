/// Values of the `rows` column family: a versioned row whose aggregates are separate
/// sections, so a reader decodes only the aggregates it was asked for (`RowView`).
///
/// Format version 2 (integers little endian):
/// ```
/// u8  version = 2
/// i64 newestEventTime
/// u64 nextArrival                                the arrival number after the newest event applied
/// u32 sectionCount
/// sectionCount × { u64 aggregateID, u32 end }    ascending aggregateID; `end` is the offset
///                                                 just past the section in the payload
/// payload: the sections' bytes, in table order, back to back
/// ```
/// Section `i` spans `end[i-1] ..< end[i]` of the payload (`end[-1]` = 0); the last `end`
/// equals the payload's length. Version 1 has no `nextArrival` (it reads as 0).
public enum RowCodec {
    /// The row format this version writes.
    public static let formatVersion: UInt8 = 2
    /// The format before `nextArrival`.
    static let versionWithoutArrival: UInt8 = 1

    /// Bytes before the section table of a row of `version`: version, newest event time,
    /// next arrival (version 2), section count.
    static func headerCount(version: UInt8) -> Int { version == versionWithoutArrival ? 1 + 8 + 4 : 1 + 8 + 8 + 4 }
    /// Bytes of one section table entry: aggregate id and end offset.
    static let tableEntryCount = 8 + 4

    /// Encodes a row from its aggregates' bytes (in any order), the event time of the newest
    /// event it holds and the arrival number after the newest event applied to it.
    ///
    /// - Precondition: aggregate ids are distinct and the sections total less than 4 GiB.
    /// - Complexity: O(n + k log k) for n bytes in k sections.
    public static func encode(
        sections: [(aggregateID: UInt64, bytes: [UInt8])], newestEventTime: Int64, nextArrival: UInt64 = 0
    ) -> [UInt8] {
        let sorted = sections.sorted { $0.aggregateID < $1.aggregateID }
        return encode(aggregateIDs: sorted.map(\.aggregateID), newestEventTime: newestEventTime, nextArrival: nextArrival) { index, row in
            row.append(contentsOf: sorted[index].bytes)
        }
    }

    /// Encodes a row into one buffer: `writeSection(i, &row)` appends the bytes of the section of
    /// `aggregateIDs[i]`, in order, so no section is copied.
    ///
    /// - Precondition: `aggregateIDs` ascend strictly; the sections total less than 4 GiB.
    /// - Complexity: O(n) for n bytes written.
    public static func encode(
        aggregateIDs: [UInt64], newestEventTime: Int64, nextArrival: UInt64,
        writeSection: (_ index: Int, _ row: inout [UInt8]) -> Void
    ) -> [UInt8] {
        var row: [UInt8] = []
        let headerCount = headerCount(version: formatVersion)
        let payloadStart = headerCount + aggregateIDs.count * tableEntryCount
        row.reserveCapacity(payloadStart + 64 * aggregateIDs.count)
        row.append(formatVersion)
        row.appendInt64(newestEventTime)
        row.appendUInt64(nextArrival)
        row.appendUInt32(UInt32(aggregateIDs.count))
        for (index, aggregateID) in aggregateIDs.enumerated() {
            precondition(index == 0 || aggregateIDs[index - 1] < aggregateID, "aggregate ids of a row must ascend")
            row.appendUInt64(aggregateID)
            row.appendUInt32(0)
        }
        for index in aggregateIDs.indices {
            writeSection(index, &row)
            let end = row.count - payloadStart
            precondition(end <= Int(UInt32.max), "a row's sections must total less than 4 GiB")
            let at = headerCount + index * tableEntryCount + 8
            withUnsafeBytes(of: UInt32(end).littleEndian) { bytes in
                for (offset, byte) in bytes.enumerated() { row[at + offset] = byte }
            }
        }
        return row
    }
}
